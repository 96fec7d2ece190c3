/* lazylib.c: shared libraries that only some commands need, loaded on their
 * first use instead of at every exec.
 *
 * Every mocker process pays for the libraries it is linked against before
 * main() runs: libarchive alone (with libxml2, ICU and libstdc++ behind it)
 * costs about 2.5 ms, and `run` execs mocker twice (CLI and monitor).  So the
 * core binary links only what every command uses; the shims in *_shim.c
 * define the few functions we call from the others and resolve them here. */
#include "util/lazylib.h"
#include "util/util.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static void *load(struct mk_lazylib *lib)
{
    void *h = __atomic_load_n(&lib->handle, __ATOMIC_ACQUIRE);
    if (h == NULL) {
        h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
        if (h != NULL)
            __atomic_store_n(&lib->handle, h, __ATOMIC_RELEASE);
    }
    return h;
}

int mk_lazylib_load_all(mk_err **err)
{
    struct mk_lazylib *libs[] = {&mk_lazy_libarchive, &mk_lazy_libcurl, &mk_lazy_libnftables};
    mk_buf missing = {0};
    for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
        if (load(libs[i]) == NULL)
            mk_buf_printf(&missing, "%s%s (Debian package %s)", missing.len ? ", " : "",
                          libs[i]->soname, libs[i]->package);
    if (missing.len == 0)
        return 0;
    mk_err_set(err, MK_ERR_INTERNAL, "missing libraries: %s", missing.data);
    mk_buf_free(&missing);
    return -1;
}

void *mk_lazylib_sym(struct mk_lazylib *lib, const char *name)
{
    void *h = load(lib);
    if (h == NULL) {
        fprintf(stderr, "mocker: this command needs %s (Debian package %s): %s\n", lib->soname,
                lib->package, dlerror());
        exit(125);
    }
    void *sym = dlsym(h, name);
    if (sym == NULL) {
        fprintf(stderr, "mocker: %s has no %s: %s\n", lib->soname, name, dlerror());
        exit(125);
    }
    return sym;
}
