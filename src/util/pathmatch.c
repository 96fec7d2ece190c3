/* pathmatch.c: Go's path.Match, the glob that docker's image filters
 * (reference=) use.  It differs from fnmatch(3): '*' and '?' never match '/',
 * a class is negated with '^' only ('!' is a plain character), '\\' escapes
 * inside classes too, and a malformed pattern is an error ("syntax error in
 * pattern") rather than a literal, whether or not the name would match. */
#include "util/util.h"

#include <string.h>

/* One character of a class, after an optional '\\'; NULL if the class is
 * malformed there (Go's getEsc: '-' and ']' must be escaped, and the class
 * must go on after it). */
static const char *class_char(const char *p, unsigned char *c)
{
    if (*p == '\0' || *p == '-' || *p == ']')
        return NULL;
    if (*p == '\\' && *++p == '\0')
        return NULL;
    *c = (unsigned char)*p++;
    return *p == '\0' ? NULL : p;
}

/* Parse the class at p (just after '['), matching c against it.  Returns the
 * text after ']' or NULL on a malformed class. */
static const char *class_match(const char *p, unsigned char c, bool *matched)
{
    bool negated = *p == '^';
    if (negated)
        p++;
    bool in = false;
    for (int n = 0;; n++) {
        if (*p == ']' && n > 0) {
            p++;
            break;
        }
        unsigned char lo, hi;
        if ((p = class_char(p, &lo)) == NULL)
            return NULL;
        hi = lo;
        if (*p == '-' && (p = class_char(p + 1, &hi)) == NULL)
            return NULL;
        in |= lo <= c && c <= hi;
    }
    *matched = in != negated;
    return p;
}

/* Check the whole pattern's syntax, as Go reports a bad pattern even when an
 * earlier part already decided the match. */
static bool pattern_valid(const char *p)
{
    while (*p != '\0') {
        if (*p == '\\') {
            if (*++p == '\0')
                return false;
            p++;
        } else if (*p == '[') {
            bool ignored;
            if ((p = class_match(p + 1, 'a', &ignored)) == NULL)
                return false;
        } else {
            p++;
        }
    }
    return true;
}

static bool match_here(const char *p, const char *s)
{
    for (; *p != '\0'; s++) {
        switch (*p) {
        case '*':
            while (*p == '*')
                p++;
            /* Try every split that keeps the star within one path element. */
            for (;; s++) {
                if (match_here(p, s))
                    return true;
                if (*s == '\0' || *s == '/')
                    return false;
            }
        case '?':
            if (*s == '\0' || *s == '/')
                return false;
            p++;
            break;
        case '[': {
            bool in = false;
            if (*s == '\0' || *s == '/')
                return false;
            p = class_match(p + 1, (unsigned char)*s, &in);
            if (!in)
                return false;
            break;
        }
        case '\\':
            /* the escaped character is literal */
            p++;
            __attribute__((fallthrough));
        default:
            if (*p != *s)
                return false;
            p++;
            break;
        }
    }
    return *s == '\0';
}

int mk_path_match(const char *pattern, const char *name, mk_err **err)
{
    if (!pattern_valid(pattern))
        return mk_err_set(err, MK_ERR_INVALID, "syntax error in pattern");
    return match_here(pattern, name) ? 1 : 0;
}
