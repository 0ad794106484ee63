# Malformed sweep files (tests/bad_specs/) and command-line misuse: exit 2,
# FILE:LINE: key 'K' in the message, no crash, no output file touched.
add_test(NAME bad_specs COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run_bad_specs.sh $<TARGET_FILE:ntasweep> ${PROJECT_SOURCE_DIR})
