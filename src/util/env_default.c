/* SPDX-License-Identifier: Apache-2.0 */
/* See edw/env_default.h. */
#include <stdlib.h>

#include "edw/env_default.h"

bool edw_env_default_set(const char *name, const char *value)
{
    if (getenv(name))
        return false;
    return setenv(name, value, 0) == 0;
}

void edw_env_default_undo(const char *name, bool was_set)
{
    if (was_set)
        unsetenv(name);
}
