/* ini_scan — the sweep file's INI scanner (first stage of spec.h).
 *
 * Reads a sweep file and its includes into one list of entries (section,
 * key, value, file and line), merged so that an including file overrides
 * its base. Anything that is not plain INI is refused with its line, and
 * iniparser must read every value the same way (see ini_scan.c).
 *
 * Locations: an `int loc` names a file and a line at once, (file << 24) |
 * line, so every error can name the included file it comes from. loc 0 is
 * the main file without a line, -1 a --set option.
 */
#ifndef NTASWEEP_INI_SCAN_H
#define NTASWEEP_INI_SCAN_H

#include <stddef.h>

#include "ntasweep/config/spec.h"

#define NTAS_INI_MAX_FILES 16   /* main file plus includes */
#define NTAS_LOC_SHIFT 24
#define NTAS_LOC(file, line) (((file) << NTAS_LOC_SHIFT) | (line))
#define NTAS_LINE_OF(loc) ((loc) & ((1 << NTAS_LOC_SHIFT) - 1))

typedef struct {
    char section[NTAS_NAME_LEN + 8];
    char key[NTAS_NAME_LEN];   /* "" marks where a section begins */
    int loc;
    char *value;   /* the scanner's text of the value, owned here */
} ntas_ini_entry;

typedef struct {
    ntas_ini_entry *e;
    int n, cap;
} ntas_ini_entries;

typedef struct {
    char *path;    /* as given (main) or resolved against the includer's directory */
    char *real;    /* realpath, for include-loop detection */
    char *text;
    size_t len;
} ntas_ini_file;

/* One read of a sweep file: its files, merged entries and the error buffer
 * every later stage reports into (ntas_ini_fail). */
typedef struct {
    ntas_ini_file files[NTAS_INI_MAX_FILES];
    int n_files;
    ntas_ini_entries entries;   /* merged over includes */
    char *err;
    size_t errlen;
} ntas_ini_scan;

/* Reads path and its includes into sc->entries (sc->err, errlen set by the
 * caller, everything else zero). 0, or -1 with "FILE:LINE: ..." in sc->err. */
int ntas_ini_read(ntas_ini_scan *sc, const char *path);
void ntas_ini_scan_free(ntas_ini_scan *sc);

/* Writes "FILE:LINE: key 'KEY': " + the message into sc->err; returns -1.
 * key may be NULL; loc -1 names a --set option. */
int ntas_ini_fail(ntas_ini_scan *sc, int loc, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The sweep's full text: the main file, then each included file after a
 * comment line naming it (what is stored in the results file and hashed).
 * malloc'ed, or NULL. */
char *ntas_ini_joined_text(const ntas_ini_scan *sc);

/* Trims white space at both ends, in place. */
char *ntas_ini_trim(char *s);
/* 1 if s is non-empty and only letters, digits, '_' and characters of extra. */
int ntas_ini_name_ok(const char *s, const char *extra);

#endif
