/* format.h: docker's output: --format Go templates (the subset scripts use) and
 * tables aligned like Go's tabwriter. */
#ifndef MK_CLI_FORMAT_H
#define MK_CLI_FORMAT_H

#include "util/util.h"

/* ---- templates ----
 * Supported: literal text; {{.Field}}, {{.A.B}}, {{.}}; {{json .X}}; {{index .X "k"}};
 * {{.Label "k"}} (a lookup in the object's "Labels" map, as docker's ps row);
 * {{upper X}} {{lower X}} {{title X}} {{join .X ","}} {{split X ","}} {{len X}} {{println X}}
 * {{printf "%s" X}} (%s %d %v %q); {{if X}}..{{else}}..{{end}}; {{range .X}}..{{end}}
 * (with {{.}} the element); {{- and -}} trimming; pipes ({{.X | json}}); "\t" "\n"
 * escapes in the template text are not interpreted (the shell gives real tabs), but
 * docker's `table` directive is handled by the caller.
 * Values: strings print as is, numbers as integers when integral, booleans true/false,
 * null as "<no value>", maps/arrays as Go prints them (map[k:v], [a b]). */
struct mk_template;
int mk_template_parse(const char *text, struct mk_template **out, mk_err **err);
/* Render against a JSON value; appends to out. */
int mk_template_render(const struct mk_template *t, const json_t *data, mk_buf *out, mk_err **err);
void mk_template_free(struct mk_template *t);
/* Render the header row of a `table` format as docker does: against the headers
 * map ("ID" -> "CONTAINER ID") with json/upper/lower/title/split/join/truncate
 * returning their argument unchanged; a field missing from the map renders as its
 * name.  On error out keeps what was rendered before it (docker prints that). */
int mk_template_render_header(const struct mk_template *t, const json_t *headers, mk_buf *out,
                              mk_err **err);
/* Go's json.Marshal of v as docker's {{json}} prints it: compact, keys in the
 * object's order, < > & not escaped, Go's float formatting. */
void mk_format_json_go(mk_buf *out, const json_t *v);

/* ---- tables ---- */
struct mk_table;
struct mk_table *mk_table_new(void);
/* Add a row of cells separated by '\t' (the header is the first row). */
void mk_table_add(struct mk_table *t, const char *tab_separated_row);
/* Print with docker's tabwriter settings: minwidth 10, padding 3, cells left-aligned,
 * the last cell not padded.  */
void mk_table_print(struct mk_table *t, FILE *f);
void mk_table_free(struct mk_table *t);
/* Raw text, as written to Go's tabwriter: '\t' ends a cell, '\n' a line. */
void mk_table_write(struct mk_table *t, const char *text, size_t len);
/* Other tabwriter settings; mk_table_new() is docker's formatter, which uses
 * minwidth 10 (so short columns are 10 wide) and padding 3. */
struct mk_table *mk_table_new_with(int minwidth, int padding);

/* docker's --format handling for list commands:
 *   NULL/"" or "table": the default table (default_tmpl, with a header row built
 *   from headers);  "table X": a table with X's columns and a header row;
 *   "json": {{json .}} per line;  anything else: one rendered line per row.
 * headers maps field names ("ID") to column titles ("CONTAINER ID").
 * rows is an array of objects.  */
int mk_format_rows(const char *format, const char *default_tmpl, const json_t *headers,
                   const json_t *rows, FILE *f, mk_err **err);

#endif
