/* text — small string helpers shared by the layers.
 *
 * Owns the edit distance behind every "did you mean" (sweep keys in
 * config/params, commands and options in runner/cli).
 */
#ifndef NTASWEEP_TEXT_H
#define NTASWEEP_TEXT_H

/* Levenshtein distance between a and b, ignoring ASCII case; 99 when either
 * is longer than 63 characters (nobody mistypes that much). */
int ntas_edit_distance(const char *a, const char *b);

#endif
