# Tests of the command line and of tidy results (tests/cli.sh): one ctest per case.
foreach(t cli_tidy cli_export cli_resume cli_json cli_habits)
  add_test(NAME ${t} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli.sh ${t}
           $<TARGET_FILE:ntasweep> ${PROJECT_SOURCE_DIR})
  set_tests_properties(${t} PROPERTIES LABELS integration TIMEOUT 300 SKIP_RETURN_CODE 77)
endforeach()
