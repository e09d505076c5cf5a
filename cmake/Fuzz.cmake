# SPDX-License-Identifier: Apache-2.0
# EDW_FUZZ=ON builds the libFuzzer targets in tests/fuzz (clang only): everything is compiled
# with coverage instrumentation for libFuzzer plus ASan and UBSan (UBSan findings abort), and
# CTest runs each target briefly over its committed seed corpus. Use a build directory of
# its own: this replaces EDW_SANITIZE.
option(EDW_FUZZ "Build the libFuzzer targets (clang; ASan+UBSan)" OFF)
if(EDW_FUZZ)
    if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
        message(FATAL_ERROR "EDW_FUZZ needs clang (-DCMAKE_C_COMPILER=clang)")
    endif()
    add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                        -fno-sanitize-recover=all)
    add_link_options(-fsanitize=address,undefined)
endif()
