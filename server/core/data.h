/*
 * Data files shipped inside the binary (the .tsv and .txt files in data/),
 * embedded at build time by tools/embed.sh. The bytes are static and NUL-terminated.
 */
#ifndef YQ_CORE_DATA_H
#define YQ_CORE_DATA_H

#include <stddef.h>

typedef struct {
    const char *name; /* base name, e.g. "classes.tsv" */
    const char *bytes;
    size_t len;
} yq_data_file_t;

extern const yq_data_file_t yq_data_files[]; /* ends with a {NULL} entry */

/* Returns the embedded file of that base name, or NULL. */
const yq_data_file_t *yq_data_get(const char *name);

#endif
