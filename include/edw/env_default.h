/* SPDX-License-Identifier: Apache-2.0 */
/* Environment defaults for libraries edw loads (see src/modules/loader.c). */
#ifndef EDW_ENV_DEFAULT_H
#define EDW_ENV_DEFAULT_H

#include <stdbool.h>

/* Set environment variable `name` to `value` unless it is already set (even to ""): a value
 * the user chose always wins. Returns true if this call set it, so the caller can unset it
 * again with edw_env_default_undo(); false if it was set already or setenv failed (ENOMEM,
 * a name with '='). Not thread-safe against getenv() in other threads (POSIX setenv): call it
 * while no other thread reads the environment. */
bool edw_env_default_set(const char *name, const char *value);

/* Undo edw_env_default_set(): unset `name` if `was_set` (that call's result), so that programs
 * edw starts later see the environment edw was given. Same thread-safety as above. */
void edw_env_default_undo(const char *name, bool was_set);

#endif
