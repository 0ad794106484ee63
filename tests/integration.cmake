# End-to-end tests (real mpirun, real HDF5 file, Python checks).
foreach(t fig2_outcome ranks_bitwise resume xarray_plot kill9_resume signal_stop extend_lock tiny_runs
        variants_bitwise variants_outcome validate_sweeps plot_smoke
        figures_outcome cnn_sweep cnn_holdout bench_quick data_paths
        fastw_outcome cnn_plot_refuse)
  add_test(NAME ${t} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration.sh ${t}
           $<TARGET_FILE:ntasweep> ${PROJECT_SOURCE_DIR})
  set_tests_properties(${t} PROPERTIES LABELS integration TIMEOUT 900
                       ENVIRONMENT "NTASWEEP_MPIEXEC=${NTASWEEP_MPIEXEC}")
endforeach()
# These need Fashion-MNIST and/or MNIST; without the data they exit 77 (skipped, with the reason).
set_tests_properties(cnn_sweep cnn_holdout plot_smoke cnn_plot_refuse PROPERTIES SKIP_RETURN_CODE 77)

if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/bad_specs.cmake)
  include(${CMAKE_CURRENT_SOURCE_DIR}/bad_specs.cmake)
endif()

# The unit tests again, in a separate AddressSanitizer + UBSan build.
if(NTASWEEP_SANITIZER_TEST AND NOT NTASWEEP_SANITIZE)
  add_test(NAME sanitizer_unit_tests
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/sanitizer.sh ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/asan)
  set_tests_properties(sanitizer_unit_tests PROPERTIES LABELS sanitizer TIMEOUT 1800
                       ENVIRONMENT "NTASWEEP_MPI=${NTASWEEP_MPI};NTASWEEP_MPIEXEC=${NTASWEEP_MPIEXEC}")
endif()

# tools/reproduce on tiny figure sweeps (tests/reproduce/*.ini).
add_test(NAME reproduce COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/reproduce.sh
         $<TARGET_FILE:ntasweep> ${PROJECT_SOURCE_DIR})
set_tests_properties(reproduce PROPERTIES LABELS integration TIMEOUT 600
                     ENVIRONMENT "NTASWEEP_MPIEXEC=${NTASWEEP_MPIEXEC}")

# jobs/*.sbatch on a real one-host SLURM started by the test (skipped, exit 77,
# only where slurm-wlm/munge are not installed). One cluster at a time.
foreach(t slurm_requeue slurm_paper)
  add_test(NAME ${t} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/slurm.sh ${t}
           $<TARGET_FILE:ntasweep> ${PROJECT_SOURCE_DIR})
  set_tests_properties(${t} PROPERTIES LABELS "integration;slurm" TIMEOUT 600
                       SKIP_RETURN_CODE 77 RESOURCE_LOCK local_slurm
                       ENVIRONMENT "NTASWEEP_MPIEXEC=${NTASWEEP_MPIEXEC}")
endforeach()

# tools/paper_check on a fake results directory: pass, differs (--strict fails), missing, --json.
add_test(NAME paper_check COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/paper_check.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(paper_check PROPERTIES LABELS integration TIMEOUT 300)

# tools/fig5_score.py on fake Fig. 5 grids: 50/50, one moved cell, columns by rank, --at, a missing file.
add_test(NAME fig5_score COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/fig5_score.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(fig5_score PROPERTIES LABELS integration TIMEOUT 120)

# tools/precision_check.py, quick: --figure 8 and --figure 5 print finite float64 and float32
# numbers that agree, --only, bad options exit 2; skipped (77) without numpy.
add_test(NAME precision_check COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/precision_check.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(precision_check PROPERTIES LABELS integration TIMEOUT 120 SKIP_RETURN_CODE 77)

# A sweep across two MPI hosts made of network namespaces, one killed
# mid-sweep and resumed (tests/two_hosts.sh); skipped (77) without the rights.
add_test(NAME two_hosts COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/two_hosts.sh
         $<TARGET_FILE:ntasweep> ${PROJECT_SOURCE_DIR})
set_tests_properties(two_hosts PROPERTIES LABELS integration TIMEOUT 300 SKIP_RETURN_CODE 77)

# The same on a real two-node SLURM made of network namespaces: slurmctld and
# one slurmd per namespace, jobs/sweep.sbatch with srun --mpi=pmix on both
# nodes, node B's rank killed, the job requeued (tests/slurm_two_nodes.sh);
# skipped (77) without the rights, SLURM/munge or SLURM's pmix plugin.
add_test(NAME slurm_two_nodes COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/slurm_two_nodes.sh
         $<TARGET_FILE:ntasweep> ${PROJECT_SOURCE_DIR})
set_tests_properties(slurm_two_nodes PROPERTIES LABELS "integration;slurm" TIMEOUT 300
                     SKIP_RETURN_CODE 77 RESOURCE_LOCK local_slurm
                     ENVIRONMENT "NTASWEEP_MPIEXEC=${NTASWEEP_MPIEXEC}")
