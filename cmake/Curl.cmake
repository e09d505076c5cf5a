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
    # Builds only when the cache has no build for this libcurl4 version and these flags; its
    # progress (about a minute the first time) and errors go to the terminal.
    execute_process(
        COMMAND "${PROJECT_SOURCE_DIR}/scripts/lean-curl.sh" --cache "${EDW_CURL_CACHE}"
        RESULT_VARIABLE lean_rc
        OUTPUT_VARIABLE lean_out
        OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT lean_rc EQUAL 0)
        message(FATAL_ERROR "EDW_CURL=lean: building the lean libcurl failed (see the lines "
            "above). Configure with -DEDW_CURL=system to use the system's libcurl instead.")
    endif()
    string(REGEX REPLACE ".*\n" "" lean_dir "${lean_out}")
    file(READ "${lean_dir}/version" lean_version)
    string(STRIP "${lean_version}" lean_version)
    message(STATUS "libcurl: lean build of Debian's curl ${lean_version} (${lean_dir})")
    add_library(edw_curl_lean STATIC IMPORTED)
    set_target_properties(edw_curl_lean PROPERTIES IMPORTED_LOCATION "${lean_dir}/lib/libcurl.a")
    target_include_directories(edw_curl_lean INTERFACE "${lean_dir}/include")
    target_compile_definitions(edw_curl_lean INTERFACE CURL_STATICLIB)
    target_link_libraries(edw_curl_lean INTERFACE PkgConfig::LIBSSL PkgConfig::LIBCRYPTO
        PkgConfig::ZLIB Threads::Threads)
    target_link_libraries(edw_curl INTERFACE edw_curl_lean)
    set(EDW_CURL_DESC "lean: static, Debian curl ${lean_version}, HTTP and HTTPS only")
    # An upgraded libcurl4 (a Debian security update) re-runs cmake at the next build, which
    # builds the lean library of the new version (the cache is keyed by it).
    file(GLOB lean_dpkg_lists /var/lib/dpkg/info/libcurl4.list /var/lib/dpkg/info/libcurl4:*.list)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
        "${PROJECT_SOURCE_DIR}/scripts/lean-curl.sh" "${PROJECT_SOURCE_DIR}/scripts/lean-lib.sh"
        ${lean_dpkg_lists})
else()
    message(FATAL_ERROR "EDW_CURL must be system or lean, not '${EDW_CURL}'")
endif()
