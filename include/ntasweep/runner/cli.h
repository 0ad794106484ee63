/* cli — the ntasweep command line: run, status, validate, plan, params.
 *
 * Owns argument parsing and exit statuses: 0 every run done, 1 some runs
 * failed or a run-time error, 2 bad input (sweep file, options, an output
 * file of another sweep or held by another job; nothing written), 3 stopped
 * by a signal with runs left (resumable: run the same command again). MPI is
 * initialised only by `run`.
 */
#ifndef NTASWEEP_CLI_H
#define NTASWEEP_CLI_H

enum { NTAS_EXIT_OK = 0, NTAS_EXIT_FAILED = 1, NTAS_EXIT_INPUT = 2, NTAS_EXIT_RESUMABLE = 3 };

int ntas_cli_main(int argc, char **argv);

/* Chooses the train kernels' instruction set from NTASWEEP_KERNELS
 * (kernels.h: portable, avx2 or avx512; unset = the best this CPU runs);
 * a value that is unknown or names a set the CPU lacks falls back to the
 * best, with a one-line warning on stderr when warn is set (rank 0). */
void ntas_cli_use_kernels(int warn);

#endif
