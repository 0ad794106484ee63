/* err — the one way a module reports an error to its caller.
 *
 * Functions that can fail return an error code and fill a caller-owned
 * message buffer (char *err, size_t errlen); ntas_set_err writes it,
 * truncating, and accepts a NULL or empty buffer.
 */
#ifndef NTASWEEP_ERR_H
#define NTASWEEP_ERR_H

#include <stddef.h>

void ntas_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
