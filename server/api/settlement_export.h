/*
 * Settlement statements as files (DOMAIN.md "Monthly settlement": exports):
 * CSV and XLSX, both from one description of the statement's tables so the
 * two always agree. Headers are Chinese and English ("费用（元） Fee (CNY)");
 * money is in yuan with two decimals; the ledger checkpoint (count and head
 * hash of the usage records) closes every table and, in the XLSX, is also the
 * printed page footer of every sheet.
 *
 * CSV (UTF-8 with BOM, CRLF): the statement's head, the lines with a total
 * row, the zone flows, the zone nets, the net positions with the voucher
 * fund and a total row, and the checkpoint row, sections separated by a
 * blank row, each opened by a row naming it.
 *
 * XLSX (libxlsxwriter): a summary sheet (head, totals, zone flows, zone nets,
 * every line), one sheet per pair of zones that has lines (named
 * "<zone a>-<zone b>", same-zone pairs "<zone>-<zone>": both flows, the net
 * and the pair's lines with a subtotal), and a sheet of net positions.
 *
 * Pure apart from the temporary file libxlsxwriter needs; thread-safe (the
 * server writes the XLSX on the thread pool).
 */
#ifndef YQ_API_SETTLEMENT_EXPORT_H
#define YQ_API_SETTLEMENT_EXPORT_H

#include <stddef.h>

#include "api/settlement_store.h"

/* The CSV bytes (malloc'd, *len without the final NUL). */
char *yq_settle_export_csv(const yq_statement_t *st, size_t *len);

/* The XLSX bytes (malloc'd, *len), or NULL with the reason in why. */
char *yq_settle_export_xlsx(const yq_statement_t *st, size_t *len, char *why, size_t why_size);

/* "-1234.50" for -123450 fen; out holds at least 32 bytes. */
void yq_settle_yuan(int64_t fen, char *out);

#endif
