# SPDX-License-Identifier: Apache-2.0
# Warnings for our own targets (never for third-party code).
function(edw_warnings target)
    target_compile_options(${target} PRIVATE
        -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wformat=2
        -Wmissing-prototypes -Wvla -Wno-unused-parameter)
    if(EDW_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()
