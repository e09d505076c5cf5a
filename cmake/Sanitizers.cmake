# SPDX-License-Identifier: Apache-2.0
# EDW_SANITIZE="address;undefined" builds everything with those sanitizers; UBSan findings
# abort so a test that trips one fails.
if(EDW_SANITIZE)
    string(REPLACE ";" "," _edw_sanitizers "${EDW_SANITIZE}")
    add_compile_options(-fsanitize=${_edw_sanitizers} -fno-omit-frame-pointer
                        -fno-sanitize-recover=all)
    add_link_options(-fsanitize=${_edw_sanitizers})
endif()
