/*
 * CSV as Excel and WPS write it (RFC 4180 with the variations seen in the
 * wild), for the catalogue's bulk import and export (API.md "CSV").
 *
 * Reader: takes the whole body (the import is bounded in size), removes a
 * UTF-8 BOM, converts GB18030 (GBK, GB2312 are subsets) to UTF-8 with iconv,
 * refuses invalid byte sequences naming the row, and then yields one record
 * at a time as an array of NUL-terminated UTF-8 cells:
 *   - records end with CRLF, LF or a lone CR; a final line ending adds no
 *     record; a blank line is a record of one empty cell;
 *   - a field in double quotes may hold commas, line breaks (CRLF inside a
 *     quoted field becomes LF) and doubled quotes ("" -> ");
 *   - a quote inside an unquoted field is kept as a character (as Excel does);
 *     text after a closing quote, or a quoted field never closed, is an error;
 *   - records may have different numbers of cells (ragged rows): the caller
 *     decides;
 *   - a NUL byte is an error.
 * Records are counted from 0: record 0 is the header row, so record N is
 * data row N (API.md: rows[].row counts data rows from 1).
 *
 * Writer: cells quoted only when needed (comma, quote, CR or LF, or leading
 * or trailing blanks), CRLF after each record, optional UTF-8 BOM first so
 * Excel opens the file as UTF-8. Text that a spreadsheet would run as a
 * formula (a cell starting with =, +, -, @, TAB or CR: "CSV injection",
 * OWASP) is written with a leading apostrophe, so Excel and WPS show it as
 * text; a cell that is a plain number ("-12.50", "-3", "12.5%") is left as it
 * is, so negative amounts stay numbers. The catalogue import takes the
 * apostrophe off again (yq_csv_unguard), so export -> import round-trips.
 *
 * Pure: no I/O. iconv is used only on memory.
 */
#ifndef YQ_DOMAIN_CSV_H
#define YQ_DOMAIN_CSV_H

#include <stddef.h>

typedef struct yq_csv yq_csv_t;

/* Opens a reader on len bytes of data (copied; data need not stay alive).
 * charset: "utf-8" (or NULL) or "gb18030"; anything else is refused.
 * detect: when nonzero and charset is utf-8, a body that is not valid UTF-8
 * but is valid GB18030 is read as GB18030 (Excel on Chinese Windows saves
 * "CSV" in GBK). On success returns 0 and *out (close it with
 * yq_csv_close). On failure returns -1 with *out NULL and a one-line English
 * reason in why (naming the data row for an invalid byte sequence). */
int yq_csv_open(const char *data, size_t len, const char *charset, int detect, yq_csv_t **out, char *why,
                size_t why_size);

/* Reads the next record. Returns 1 with *cells (n writable NUL-terminated
 * strings, n >= 1) that stay valid until the next call or close; 0 at the
 * end; -1 on malformed input, with the reason in yq_csv_error() and the row
 * in yq_csv_error_row(). After 0 or -1 every further call returns the same. */
int yq_csv_next(yq_csv_t *csv, char ***cells, size_t *n);

/* Goes back to the first record (after an error too), so the body can be
 * read again without being converted and checked again. */
void yq_csv_rewind(yq_csv_t *csv);

/* Number of the record last returned by yq_csv_next (0 = header row, N = data
 * row N); (size_t)-1 before the first record. */
size_t yq_csv_record(const yq_csv_t *csv);

/* The physical line (from 1) on which the last returned record starts. */
size_t yq_csv_line(const yq_csv_t *csv);

/* Why yq_csv_next returned -1 ("" otherwise), e.g. "a quoted field opened on
 * line 7 is not closed". Owned by the reader. */
const char *yq_csv_error(const yq_csv_t *csv);

/* The record number (0 = header row, N = data row N) where the error was
 * found. */
size_t yq_csv_error_row(const yq_csv_t *csv);

/* Which charset the body was read in: "utf-8" or "gb18030". */
const char *yq_csv_charset(const yq_csv_t *csv);

/* Frees the reader and its cells. NULL is fine. */
void yq_csv_close(yq_csv_t *csv);

typedef struct yq_csv_writer yq_csv_writer_t;

/* A writer whose output starts with a UTF-8 BOM (for Excel). Never NULL;
 * free with yq_csv_writer_free. */
yq_csv_writer_t *yq_csv_writer_new(void);

/* A writer with (bom = 1) or without (bom = 0) the UTF-8 BOM. */
yq_csv_writer_t *yq_csv_writer_create(int bom);

/* Appends one cell to the current record; NULL writes an empty cell. A cell
 * that yq_csv_formula_like() flags is written with a leading apostrophe. */
void yq_csv_cell(yq_csv_writer_t *w, const char *s);

/* 1 when the writer guards text s with an apostrophe: after any leading
 * apostrophes it starts with =, +, -, @, TAB or CR and is not a plain number
 * (an optional sign, digits with at most one decimal point, an optional
 * trailing %). Looking through apostrophes makes the guard reversible: text
 * that itself starts with "'=" is written "''=". NULL gives 0. */
int yq_csv_formula_like(const char *s);

/* The text a cell held before the writer guarded it: s without its first
 * character when that is an apostrophe and the rest is formula-like (an
 * apostrophe followed by =, +, -, @, TAB or CR, not a plain number); else s
 * itself. Returns a pointer into s (nothing is allocated). */
const char *yq_csv_unguard(const char *s);

/* Ends the current record with CRLF. */
void yq_csv_end_row(yq_csv_writer_t *w);

/* The bytes written so far (NUL-terminated; *len without the NUL). Owned by
 * the writer: valid until the next write or yq_csv_writer_free. */
const char *yq_csv_writer_data(const yq_csv_writer_t *w, size_t *len);

/* Frees the writer and its bytes. NULL is fine. */
void yq_csv_writer_free(yq_csv_writer_t *w);

#endif
