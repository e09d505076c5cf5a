# SPDX-License-Identifier: Apache-2.0
# libFuzzer targets, one per parser (EDW_FUZZ=ON; see cmake/Fuzz.cmake and
# docs/RELIABILITY.md (Fuzzing)). Included from tests/CMakeLists.txt.
#
# edw_fuzz_target(name runs) builds fuzz/fuzz_<name>.c and registers the CTest test
# fuzz_<name>: `runs` inputs with a fixed seed, starting from the committed corpus
# fuzz/corpus/<name> (read-only: new inputs go to a scratch directory in the build tree), so
# the test is deterministic and bounded. Longer runs: see docs/RELIABILITY.md (Fuzzing).
function(edw_fuzz_target name runs)
    add_executable(fuzz_${name} fuzz/fuzz_${name}.c)
    target_link_libraries(fuzz_${name} PRIVATE edw_fakes)
    target_include_directories(fuzz_${name} PRIVATE fuzz fakes ${PROJECT_SOURCE_DIR}/src/core
                               ${PROJECT_SOURCE_DIR}/src/backends ${PROJECT_SOURCE_DIR}/src/auth)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    edw_warnings(fuzz_${name})
    add_test(NAME fuzz_${name}
             COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run.sh $<TARGET_FILE:fuzz_${name}>
                     ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${name}
                     ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/${name} -runs=${runs})
    set_tests_properties(fuzz_${name} PROPERTIES LABELS fuzz TIMEOUT 300
        ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
endfunction()

edw_fuzz_target(azure_queue_xml 40000)
edw_fuzz_target(azure_queue_replies 5000)
edw_fuzz_target(azure_table_json 40000)
edw_fuzz_target(azure_batch 150000)
edw_fuzz_target(azure_conn 100000)
edw_fuzz_target(sqs_json 40000)
edw_fuzz_target(ddb_json 8000)
edw_fuzz_target(sts_xml 40000)
edw_fuzz_target(token_json 150000)
edw_fuzz_target(payload 150000)
edw_fuzz_target(config 5000)
