/* table.c: column alignment as the docker CLI's fork of Go's text/tabwriter.
 *
 * Text is buffered; a cell is text terminated by a tab, a line ends at '\n'.
 * Tab-terminated cells of consecutive lines form a column block whose width is
 * the widest cell plus the padding (at least minwidth).  The last cell of a line
 * is not part of any column and is never padded.  Cell widths are display
 * widths as go-runewidth counts them: wide East Asian characters take two
 * columns, combining marks none. */
#include <string.h>

#include "cli/format.h"

struct mk_table {
    mk_buf text;
    int minwidth, padding;
};

struct cell {
    size_t off, size;
    int width;
};

struct line {
    struct cell *cells;
    size_t n;
    bool terminated; /* ended by '\n' or '\f' (printed as a newline) */
    bool flush;      /* Go flushes after a '\f' or a one-cell line */
};

struct layout {
    const char *text;
    struct line *lines;
    size_t nlines;
    int minwidth, padding;
    int *widths;
    FILE *f;
};

struct mk_table *mk_table_new_with(int minwidth, int padding)
{
    struct mk_table *t = xcalloc(1, sizeof *t);
    t->minwidth = minwidth < 0 ? 0 : minwidth;
    t->padding = padding < 0 ? 0 : padding;
    return t;
}

struct mk_table *mk_table_new(void)
{
    return mk_table_new_with(10, 3);
}

void mk_table_write(struct mk_table *t, const char *text, size_t len)
{
    if (len > 0)
        mk_buf_append(&t->text, text, len);
}

void mk_table_add(struct mk_table *t, const char *tab_separated_row)
{
    mk_table_write(t, tab_separated_row, strlen(tab_separated_row));
    mk_table_write(t, "\n", 1);
}

void mk_table_free(struct mk_table *t)
{
    if (t == NULL)
        return;
    mk_buf_free(&t->text);
    free(t);
}

static bool in_ranges(uint32_t r, const uint32_t (*ranges)[2], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (r >= ranges[i][0] && r <= ranges[i][1])
            return true;
    return false;
}

static int rune_width(uint32_t r)
{
    static const uint32_t zero[][2] = {
        {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD},   {0x0610, 0x061A}, {0x064B, 0x065F},
        {0x0E31, 0x0E31}, {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E},   {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF},
        {0x200B, 0x200F}, {0x2028, 0x202E}, {0x2060, 0x2064},   {0x20D0, 0x20FF}, {0xFE00, 0xFE0F},
        {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF}, {0xE0100, 0xE01EF},
    };
    static const uint32_t wide[][2] = {
        {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},
        {0x23F0, 0x23F0},   {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},
        {0x2648, 0x2653},   {0x267F, 0x267F},   {0x2693, 0x2693},   {0x26A1, 0x26A1},
        {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},   {0x26CE, 0x26CE},
        {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
        {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},
        {0x2728, 0x2728},   {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},
        {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27B0, 0x27B0},   {0x27BF, 0x27BF},
        {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x303E},
        {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
        {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},
        {0xFE30, 0xFE6F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4},
        {0x17000, 0x18CFF}, {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF},
        {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F251}, {0x1F300, 0x1F320},
        {0x1F32D, 0x1F335}, {0x1F337, 0x1F37C}, {0x1F37E, 0x1F393}, {0x1F3A0, 0x1F3CA},
        {0x1F3CF, 0x1F3D3}, {0x1F3E0, 0x1F3F0}, {0x1F3F4, 0x1F3F4}, {0x1F3F8, 0x1F43E},
        {0x1F440, 0x1F440}, {0x1F442, 0x1F4FC}, {0x1F4FF, 0x1F53D}, {0x1F54B, 0x1F54E},
        {0x1F550, 0x1F567}, {0x1F57A, 0x1F57A}, {0x1F595, 0x1F596}, {0x1F5A4, 0x1F5A4},
        {0x1F5FB, 0x1F64F}, {0x1F680, 0x1F6C5}, {0x1F6CC, 0x1F6CC}, {0x1F6D0, 0x1F6D2},
        {0x1F6D5, 0x1F6D7}, {0x1F6EB, 0x1F6EC}, {0x1F6F4, 0x1F6FC}, {0x1F7E0, 0x1F7EB},
        {0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945}, {0x1F947, 0x1F9FF}, {0x1FA70, 0x1FAFF},
        {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
    };
    if (r < 0x20 || (r >= 0x7F && r < 0xA0))
        return 0;
    if (r < 0x300)
        return 1;
    if (in_ranges(r, zero, sizeof zero / sizeof zero[0]))
        return 0;
    if (in_ranges(r, wide, sizeof wide / sizeof wide[0]))
        return 2;
    return 1;
}

/* Display width of UTF-8 text; an invalid byte counts as one U+FFFD. */
static int text_width(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    int w = 0;
    for (size_t i = 0; i < n;) {
        uint32_t r = 0xFFFD;
        size_t len = 1;
        if (s[i] < 0x80) {
            r = s[i];
        } else {
            size_t want = (s[i] & 0xE0) == 0xC0   ? 2
                          : (s[i] & 0xF0) == 0xE0 ? 3
                          : (s[i] & 0xF8) == 0xF0 ? 4
                                                  : 0;
            uint32_t c = want == 2 ? (s[i] & 0x1Fu) : want == 3 ? (s[i] & 0x0Fu) : (s[i] & 0x07u);
            bool ok = want > 0 && i + want <= n;
            for (size_t k = 1; ok && k < want; k++) {
                ok = (s[i + k] & 0xC0) == 0x80;
                c = (c << 6) | (s[i + k] & 0x3Fu);
            }
            uint32_t min = want == 2 ? 0x80 : want == 3 ? 0x800 : 0x10000;
            if (ok && c >= min && c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF)) {
                r = c;
                len = want;
            }
        }
        w += rune_width(r);
        i += len;
    }
    return w;
}

static void write_lines(struct layout *lo, size_t line0, size_t line1, size_t nwidths)
{
    for (size_t i = line0; i < line1; i++) {
        const struct line *l = &lo->lines[i];
        for (size_t j = 0; j < l->n; j++) {
            const struct cell *c = &l->cells[j];
            fwrite(lo->text + c->off, 1, c->size, lo->f);
            if (j < nwidths)
                for (int k = c->width; k < lo->widths[j]; k++)
                    fputc(' ', lo->f);
        }
        if (l->terminated)
            fputc('\n', lo->f);
    }
}

/* Go's Writer.format: find each block of lines sharing column `nwidths`, size
 * it, and format the columns to its right recursively. */
static void format_block(struct layout *lo, size_t line0, size_t line1, size_t nwidths)
{
    size_t column = nwidths;
    for (size_t cur = line0; cur < line1; cur++) {
        if (column + 1 >= lo->lines[cur].n)
            continue;
        write_lines(lo, line0, cur, nwidths);
        line0 = cur;
        int width = lo->minwidth;
        for (; cur < line1; cur++) {
            const struct line *l = &lo->lines[cur];
            if (column + 1 >= l->n)
                break;
            int w = l->cells[column].width + lo->padding;
            if (w > width)
                width = w;
        }
        lo->widths[column] = width;
        format_block(lo, line0, cur, nwidths + 1);
        line0 = cur;
    }
    write_lines(lo, line0, line1, nwidths);
}

void mk_table_print(struct mk_table *t, FILE *f)
{
    const char *s = t->text.data ? t->text.data : "";
    size_t n = t->text.len, start = 0, maxcells = 0;
    struct line *lines = xcalloc(1, sizeof(struct line));
    size_t nlines = 1;
    for (size_t i = 0; i <= n; i++) {
        bool at_end = i == n;
        char c = at_end ? '\0' : s[i];
        if (!at_end && c != '\t' && c != '\v' && c != '\n' && c != '\f')
            continue;
        struct line *l = &lines[nlines - 1];
        /* at the end only a non-empty trailing cell counts, as in Go's Flush */
        if (!at_end || i > start) {
            l->cells = xrealloc(l->cells, (l->n + 1) * sizeof(struct cell));
            l->cells[l->n++] = (struct cell){start, i - start, text_width(s + start, i - start)};
            if (l->n > maxcells)
                maxcells = l->n;
        }
        start = i + 1;
        if (c == '\n' || c == '\f') {
            l->terminated = true;
            l->flush = c == '\f' || l->n == 1;
            lines = xrealloc(lines, (nlines + 1) * sizeof(struct line));
            lines[nlines++] = (struct line){0};
        }
    }
    struct layout lo = {
        .text = s,
        .lines = lines,
        .nlines = nlines,
        .minwidth = t->minwidth,
        .padding = t->padding,
        .widths = xcalloc(maxcells + 1, sizeof(int)),
        .f = f,
    };
    size_t group = 0;
    for (size_t i = 0; i < nlines; i++) {
        if (lines[i].flush || i + 1 == nlines) {
            format_block(&lo, group, i + 1, 0);
            group = i + 1;
        }
    }
    for (size_t i = 0; i < nlines; i++)
        free(lines[i].cells);
    free(lines);
    free(lo.widths);
}
