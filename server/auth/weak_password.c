/*
 * Common passwords (see weak_password.h). The embedded list is copied once,
 * lower-cased, split into lines, sorted and de-duplicated; a lookup
 * lower-cases the candidate into a stack buffer and binary-searches. The
 * table lives for the process.
 */
#include "auth/weak_password.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/data.h"

/* No entry is longer; a longer candidate cannot be on the list. */
#define ENTRY_MAX 128

static char **entries;
static size_t count;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static char lower(char c) {
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int cmp_entry(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load(void) {
    const yq_data_file_t *f = yq_data_get("common-passwords.txt");
    if (!f)
        return;
    char *text = yq_xstrndup(f->bytes, f->len); /* kept: the entries point into it */
    size_t cap = 1;
    for (char *p = text; *p; p++) {
        *p = lower(*p);
        cap += *p == '\n';
    }
    entries = yq_xcalloc(cap, sizeof *entries);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r')
            line[--len] = '\0';
        if (len && len < ENTRY_MAX && line[0] != '#')
            entries[count++] = line;
    }
    qsort(entries, count, sizeof *entries, cmp_entry);
    size_t out = 0;
    for (size_t i = 0; i < count; i++)
        if (out == 0 || strcmp(entries[out - 1], entries[i]) != 0)
            entries[out++] = entries[i];
    count = out;
}

int yq_password_is_common(const char *pw) {
    if (!pw)
        return 0;
    char key[ENTRY_MAX];
    size_t len = 0;
    for (; pw[len]; len++) {
        if (len + 1 >= sizeof key)
            return 0;
        key[len] = lower(pw[len]);
    }
    key[len] = '\0';
    pthread_once(&once, load);
    const char *k = key;
    return count && bsearch(&k, entries, count, sizeof *entries, cmp_entry) != NULL;
}

size_t yq_password_common_count(void) {
    pthread_once(&once, load);
    return count;
}
