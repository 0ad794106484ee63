/* expr — [derived] expressions, a recursive-descent evaluator. See expr.h. */
#include "ntasweep/config/expr.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntasweep/config/spec.h"

typedef struct {
    const char *s;
    const ntas_expr_env *env;
    char msg[160];
} expr_ctx;

static double ex_expr(expr_ctx *e);

static void ex_space(expr_ctx *e)
{
    while (isspace((unsigned char)*e->s)) e->s++;
}

static double ex_error(expr_ctx *e, const char *fmt, const char *arg)
{
    if (!e->msg[0]) snprintf(e->msg, sizeof e->msg, fmt, arg);
    return NAN;
}

static double ex_primary(expr_ctx *e)
{
    ex_space(e);
    const char *s = e->s;
    if (*s == '(') {
        e->s++;
        double v = ex_expr(e);
        ex_space(e);
        if (*e->s != ')') return ex_error(e, "expected ')' at '%.20s'", e->s);
        e->s++;
        return v;
    }
    if (isdigit((unsigned char)*s) || *s == '.') {
        size_t n = strspn(s, "0123456789.");
        if ((s[n] == 'e' || s[n] == 'E') && (isdigit((unsigned char)s[n + 1]) ||
            ((s[n + 1] == '+' || s[n + 1] == '-') && isdigit((unsigned char)s[n + 2])))) {
            n += 2;
            n += strspn(s + n, "0123456789");
        }
        char buf[64];
        if (n >= sizeof buf) return ex_error(e, "number too long at '%.20s'", s);
        memcpy(buf, s, n);
        buf[n] = '\0';
        char *end;
        double v = strtod(buf, &end);
        if (*end) return ex_error(e, "bad number '%s'", buf);
        e->s += n;
        return v;
    }
    if (isalpha((unsigned char)*s) || *s == '_') {
        char name[NTAS_NAME_LEN];
        size_t n = 0;
        while ((isalnum((unsigned char)s[n]) || s[n] == '_') && n + 1 < sizeof name) { name[n] = s[n]; n++; }
        name[n] = '\0';
        e->s += n;
        ex_space(e);
        if (*e->s == '(') {
            e->s++;
            double arg[2];
            int na = 0;
            for (;;) {
                double v = ex_expr(e);
                if (na < 2) arg[na] = v;
                na++;
                ex_space(e);
                if (*e->s == ',') { e->s++; continue; }
                if (*e->s == ')') { e->s++; break; }
                return ex_error(e, "expected ',' or ')' at '%.20s'", e->s);
            }
            static const struct { const char *name; int args; } fns[] = {
                {"round", 1}, {"floor", 1}, {"ceil", 1}, {"abs", 1}, {"sqrt", 1}, {"exp", 1},
                {"log", 1}, {"log10", 1}, {"min", 2}, {"max", 2}, {"pow", 2}};
            for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
                if (strcmp(name, fns[i].name)) continue;
                if (na != fns[i].args) return ex_error(e, "wrong number of arguments to %s()", name);
                switch (i) {
                case 0: return round(arg[0]);
                case 1: return floor(arg[0]);
                case 2: return ceil(arg[0]);
                case 3: return fabs(arg[0]);
                case 4: return sqrt(arg[0]);
                case 5: return exp(arg[0]);
                case 6: return log(arg[0]);
                case 7: return log10(arg[0]);
                case 8: return fmin(arg[0], arg[1]);
                case 9: return fmax(arg[0], arg[1]);
                default: return pow(arg[0], arg[1]);
                }
            }
            return ex_error(e, "unknown function '%s' (round, floor, ceil, abs, sqrt, exp, log, log10, min, max, pow)", name);
        }
        int v = e->env->find_var ? e->env->find_var(e->env->ctx, name) : -1;
        if (v >= 0) return e->env->vars[v];
        int k = ntas_param_find(name);
        if (k < 0) {
            const char *hint = ntas_param_suggest(name);
            char m[128];
            snprintf(m, sizeof m, "unknown name '%s'%s%s%s", name, hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            return ex_error(e, "%s", m);
        }
        const ntas_param_desc *d = &ntas_param_table[k];
        if (d->type == NTAS_PT_CHOICE) return ex_error(e, "'%s' is not numeric", name);
        return d->type == NTAS_PT_INT ? (double)ntas_param_get_int(d, e->env->params) : ntas_param_get_real(d, e->env->params);
    }
    if (!*s) return ex_error(e, "%sexpression ends too early", "");
    return ex_error(e, "unexpected '%.20s'", s);
}

static double ex_unary(expr_ctx *e)
{
    ex_space(e);
    if (*e->s == '-') { e->s++; return -ex_unary(e); }
    if (*e->s == '+') { e->s++; return ex_unary(e); }
    return ex_primary(e);
}

static double ex_power(expr_ctx *e)
{
    double b = ex_unary(e);
    ex_space(e);
    if (*e->s == '^') { e->s++; return pow(b, ex_power(e)); }
    return b;
}

static double ex_term(expr_ctx *e)
{
    double v = ex_power(e);
    for (;;) {
        ex_space(e);
        if (*e->s == '*') { e->s++; v *= ex_power(e); }
        else if (*e->s == '/') { e->s++; v /= ex_power(e); }
        else return v;
    }
}

static double ex_expr(expr_ctx *e)
{
    double v = ex_term(e);
    for (;;) {
        ex_space(e);
        if (*e->s == '+') { e->s++; v += ex_term(e); }
        else if (*e->s == '-') { e->s++; v -= ex_term(e); }
        else return v;
    }
}

double ntas_expr_eval(const char *text, const ntas_expr_env *env, char *msg, size_t msglen)
{
    expr_ctx e = {.s = text, .env = env};
    double v = ex_expr(&e);
    ex_space(&e);
    if (!e.msg[0] && *e.s) snprintf(e.msg, sizeof e.msg, "unexpected '%.20s'", e.s);
    snprintf(msg, msglen, "%s", e.msg);
    return e.msg[0] ? NAN : v;
}
