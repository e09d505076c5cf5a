/* SPDX-License-Identifier: Apache-2.0 */
/* Finds and dlopen()s a module of the running binary (see edw/module.h). The directory comes
 * from the binary's own path, not from the loader's search path, so the binary only ever loads
 * the modules it was installed with, whatever LD_LIBRARY_PATH says. */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "edw/env_default.h"
#include "edw/module.h"

struct module_abi_head { /* the first members of every descriptor */
    unsigned abi;
    const char *version;
};

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char name[16];
    const void *desc;
} s_loaded[4];

/* Directory of the running binary, without the trailing slash; false if unknown. `out` has
 * PATH_MAX bytes. /proc/self/exe when /proc is mounted; else (a bare chroot) the path the
 * binary was executed by, symlinks resolved. */
static bool exe_dir(char *out)
{
    ssize_t n = readlink("/proc/self/exe", out, PATH_MAX - 1);
    if (n > 0 && n < PATH_MAX - 1) {
        out[n] = '\0';
    } else {
        const char *execfn = (const char *)getauxval(AT_EXECFN);
        if (!execfn || !realpath(execfn, out))
            return false;
    }
    char *slash = strrchr(out, '/');
    if (!slash)
        return false;
    *slash = '\0';
    return true;
}

static const void *open_one(const char *path, const char *name, struct edw_error *err)
{
    /* GnuTLS comes along with both modules (libcurl -> librtmp; libmicrohttpd) but edw never
     * uses it, and its library constructor runs gnutls_global_init() at load time unless
     * GNUTLS_NO_IMPLICIT_INIT is set: about 0.8 MB of resident memory (docs/BENCHMARKS.md).
     * Set it for the load only (a value the user set wins), so that programs the exec handler
     * starts get the environment edw was given. The commands load modules from the main
     * thread before they start any other (while the configuration is checked; when the metrics
     * server starts), so no other thread reads the environment meanwhile. */
    bool gnutls_env = edw_env_default_set("GNUTLS_NO_IMPLICIT_INIT", "1");
    /* RTLD_NOW: a module that cannot resolve a symbol fails here, with a message, rather than
     * later in the middle of a batch. RTLD_LOCAL: its libraries stay out of the global scope. */
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    edw_env_default_undo("GNUTLS_NO_IMPLICIT_INIT", gnutls_env);
    if (!h) {
        const char *why = dlerror();
        edw_error_set(err, EDW_ERR_FATAL, "%s", why ? why : path);
        return NULL;
    }
    char sym[48];
    snprintf(sym, sizeof(sym), "edw_module_%s", name);
    const struct module_abi_head *d = dlsym(h, sym);
    if (!d) {
        edw_error_set(err, EDW_ERR_FATAL, "%s: no symbol %s", path, sym);
        dlclose(h);
        return NULL;
    }
    if (d->abi != EDW_MODULE_ABI || strcmp(d->version, EDW_VERSION) != 0) {
        edw_error_set(err, EDW_ERR_FATAL, "%s is from edw %s (module ABI %u), this is edw %s "
                      "(ABI %u): install the binary and its modules together", path,
                      d->version, d->abi, EDW_VERSION, EDW_MODULE_ABI);
        dlclose(h);
        return NULL;
    }
    return d;
}

const void *edw_module_load(const char *name, struct edw_error *err)
{
    const void *desc = NULL;
    pthread_mutex_lock(&s_lock);
    size_t slot = 0;
    for (; slot < sizeof(s_loaded) / sizeof(s_loaded[0]) && s_loaded[slot].desc; slot++) {
        if (strcmp(s_loaded[slot].name, name) == 0) {
            desc = s_loaded[slot].desc;
            goto out;
        }
    }
    char dir[PATH_MAX];
    if (!exe_dir(dir)) {
        edw_error_set(err, EDW_ERR_FATAL, "cannot find the edw binary's directory "
                      "(/proc/self/exe, AT_EXECFN) to load module edw-%s.so", name);
        goto out;
    }
    static const char *const subdirs[] = {"", "/../lib/edw"};
    struct edw_error why = {0}; /* the last file that exists but failed to load */
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]) && !desc; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof(path), "%s%s/edw-%s.so", dir, subdirs[i], name);
        if (access(path, F_OK) == 0)
            desc = open_one(path, name, &why);
    }
    if (!desc) {
        if (why.message[0])
            edw_error_set(err, EDW_ERR_FATAL, "module edw-%s.so: %s", name, why.message);
        else
            edw_error_set(err, EDW_ERR_FATAL, "module edw-%s.so not found in %s or %s/../lib/edw"
                          ": install the modules with the binary", name, dir, dir);
        goto out;
    }
    if (slot < sizeof(s_loaded) / sizeof(s_loaded[0])) {
        snprintf(s_loaded[slot].name, sizeof(s_loaded[slot].name), "%s", name);
        s_loaded[slot].desc = desc;
    }
out:
    pthread_mutex_unlock(&s_lock);
    return desc;
}
