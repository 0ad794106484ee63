/* cli — the ntasweep command line: run, validate, plan, --help, --version.
 *
 * Owns argument parsing and exit statuses: 0 success, 1 some runs failed or
 * a run-time error, 2 bad input (sweep file, options, incompatible output
 * file; nothing written). MPI is initialised only by `run`.
 */
#ifndef NTASWEEP_CLI_H
#define NTASWEEP_CLI_H

enum { NTAS_EXIT_OK = 0, NTAS_EXIT_FAILED = 1, NTAS_EXIT_INPUT = 2 };

int ntas_cli_main(int argc, char **argv);

#endif
