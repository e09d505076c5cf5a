# SPDX-License-Identifier: Apache-2.0
# Which libcurl edw-net.so uses (docs/building.md):
#   EDW_CURL=system  the distribution's shared libcurl (pkg-config libcurl); works anywhere.
#   EDW_CURL=lean    Debian's curl source for the installed libcurl4 (same version and patches),
#                    HTTP/HTTPS only, built once by scripts/lean-curl.sh into EDW_CURL_CACHE and
#                    linked statically into edw-net.so with its symbols kept local. About 3 MB
#                    less resident memory per consumer and a faster start (docs/BENCHMARKS.md).
# Defines the target edw_curl and EDW_CURL_DESC (what `edw version` reports).
set(EDW_CURL system CACHE STRING "libcurl for edw-net.so: system or lean")
set_property(CACHE EDW_CURL PROPERTY STRINGS system lean)
set(EDW_CURL_CACHE "${PROJECT_SOURCE_DIR}/build/lean-curl" CACHE PATH
    "Where EDW_CURL=lean keeps its libcurl builds (shared by every build directory)")

add_library(edw_curl INTERFACE)
if(EDW_CURL STREQUAL "system")
    target_link_libraries(edw_curl INTERFACE PkgConfig::CURL)
    set(EDW_CURL_DESC "system")
elseif(EDW_CURL STREQUAL "lean")
    pkg_check_modules(LIBSSL REQUIRED IMPORTED_TARGET libssl)
    pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib)
    edw_lean_library(TARGET edw_curl_lean RECIPE lean-curl.sh CACHE "${EDW_CURL_CACHE}"
        PACKAGE libcurl4 ARCHIVE libcurl.a OPTION EDW_CURL VERSION_VAR lean_version)
    target_compile_definitions(edw_curl_lean INTERFACE CURL_STATICLIB)
    target_link_libraries(edw_curl_lean INTERFACE PkgConfig::LIBSSL PkgConfig::LIBCRYPTO
        PkgConfig::ZLIB Threads::Threads)
    target_link_libraries(edw_curl INTERFACE edw_curl_lean)
    set(EDW_CURL_DESC "lean: static, Debian curl ${lean_version}, HTTP and HTTPS only")
else()
    message(FATAL_ERROR "EDW_CURL must be system or lean, not '${EDW_CURL}'")
endif()
