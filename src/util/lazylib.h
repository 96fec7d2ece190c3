/* lazylib.h: libraries loaded on first use (lazylib.c says why).
 *
 * A shim defines each function with the library's own prototype (from its
 * header, so a mismatch fails to compile):
 *     MK_LAZY_FN(libarchive, struct archive *, archive_read_new, (void), ())
 * The first call resolves the symbol; a missing library ends the process with
 * exit 125 and the package to install. */
#ifndef MK_UTIL_LAZYLIB_H
#define MK_UTIL_LAZYLIB_H

struct mk_lazylib {
    const char *soname; /* the ABI we compiled against, e.g. "libarchive.so.13" */
    const char *package;
    void *handle;
};

void *mk_lazylib_sym(struct mk_lazylib *lib, const char *name);

/* The libraries of the shims. */
extern struct mk_lazylib mk_lazy_libarchive, mk_lazy_libcurl, mk_lazy_libnftables;
struct mk_err;
/* Load them all now, for a long-lived process (mocker serve): one that is
 * missing is an error at its start instead of an exit(125) from the middle
 * of a request, which would end every other client's connection too.
 * Returns -1 with *err naming the packages to install. */
int mk_lazylib_load_all(struct mk_err **err);

#define MK_LAZY_RESOLVE(lib, name)                                                                \
    static __typeof__(name) *fn_;                                                                 \
    __typeof__(name) *f_ = __atomic_load_n(&fn_, __ATOMIC_ACQUIRE);                               \
    if (f_ == NULL) {                                                                             \
        f_ = (__typeof__(name) *)mk_lazylib_sym(&(lib), #name);                                   \
        __atomic_store_n(&fn_, f_, __ATOMIC_RELEASE);                                             \
    }

#define MK_LAZY_FN(lib, ret, name, params, args)                                                  \
    ret name params                                                                               \
    {                                                                                             \
        MK_LAZY_RESOLVE(lib, name)                                                        \
        return f_ args;                                                                           \
    }

#define MK_LAZY_VOID(lib, name, params, args)                                                     \
    void name params                                                                              \
    {                                                                                             \
        MK_LAZY_RESOLVE(lib, name)                                                        \
        f_ args;                                                                                  \
    }

/* archive_shim.c: enable the read filters mocker accepts on a libarchive
 * reader (struct archive *, declared by <archive.h>). */
struct archive;
void mk_archive_read_filters(struct archive *a);

#endif
