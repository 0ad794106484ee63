/* ntasweep entry point: everything lives in cli.c so tests can drive it. */
#include "ntasweep/runner/cli.h"

int main(int argc, char **argv)
{
    return ntas_cli_main(argc, argv);
}
