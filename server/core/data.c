/* Lookup of embedded data files: see data.h. */
#include "core/data.h"

#include <string.h>

const yq_data_file_t *yq_data_get(const char *name) {
    for (const yq_data_file_t *f = yq_data_files; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}
