/* expr — the small expression language of [derived] (README "Sweep files").
 *
 * expr := term (('+'|'-') term)*; term := power (('*'|'/') power)*;
 * power := unary ('^' power)?; unary := '-' unary | primary;
 * primary := number | name | name '(' expr (',' expr)* ')' | '(' expr ')'.
 * Names are parameter keys (numeric ones) and [vars]; functions round (half
 * away from zero), floor, ceil, abs, sqrt, exp, log, log10, min, max, pow.
 */
#ifndef NTASWEEP_EXPR_H
#define NTASWEEP_EXPR_H

#include <stddef.h>

#include "ntasweep/config/params.h"

/* What a name in an expression can refer to. */
typedef struct {
    const ntas_params *params;   /* the run's parameters so far */
    const double *vars;          /* values of the [vars] */
    /* Index of a [vars] name in vars, or -1. */
    int (*find_var)(const void *ctx, const char *name);
    const void *ctx;
} ntas_expr_env;

/* Evaluates the whole of text. On a syntax or name error returns NaN and
 * writes the reason into msg (msg[0] is '\0' on success); a NaN or infinite
 * value without a message is the caller's to judge. */
double ntas_expr_eval(const char *text, const ntas_expr_env *env, char *msg, size_t msglen);

#endif
