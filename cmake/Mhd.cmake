# SPDX-License-Identifier: Apache-2.0
# Which libmicrohttpd edw-httpd.so (the /metrics and probe server) uses (docs/building.md):
#   EDW_MHD=system  the distribution's shared libmicrohttpd (pkg-config libmicrohttpd), which on
#                   Debian links GnuTLS and initialises it when loaded.
#   EDW_MHD=lean    Debian's libmicrohttpd source for the installed libmicrohttpd12 (same
#                   version and patches), without HTTPS (no GnuTLS) and the parts edw does not
#                   call, built once by scripts/lean-mhd.sh into EDW_MHD_CACHE and linked
#                   statically into edw-httpd.so with its symbols kept local. About 3 MB less
#                   resident memory in a consumer serving /metrics (docs/BENCHMARKS.md).
# Defines the target edw_mhd and EDW_MHD_DESC (what `edw version` reports).
set(EDW_MHD system CACHE STRING "libmicrohttpd for edw-httpd.so: system or lean")
set_property(CACHE EDW_MHD PROPERTY STRINGS system lean)
set(EDW_MHD_CACHE "${PROJECT_SOURCE_DIR}/build/lean-mhd" CACHE PATH
    "Where EDW_MHD=lean keeps its libmicrohttpd builds (shared by every build directory)")

add_library(edw_mhd INTERFACE)
if(EDW_MHD STREQUAL "system")
    target_link_libraries(edw_mhd INTERFACE PkgConfig::MHD)
    set(EDW_MHD_DESC "system")
elseif(EDW_MHD STREQUAL "lean")
    # Builds only when the cache has no build for this libmicrohttpd12 version and these flags;
    # its progress (under a minute the first time) and errors go to the terminal.
    execute_process(
        COMMAND "${PROJECT_SOURCE_DIR}/scripts/lean-mhd.sh" --cache "${EDW_MHD_CACHE}"
        RESULT_VARIABLE lean_rc
        OUTPUT_VARIABLE lean_out
        OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT lean_rc EQUAL 0)
        message(FATAL_ERROR "EDW_MHD=lean: building the lean libmicrohttpd failed (see the "
            "lines above). Configure with -DEDW_MHD=system to use the system's instead.")
    endif()
    string(REGEX REPLACE ".*\n" "" lean_dir "${lean_out}")
    file(READ "${lean_dir}/version" lean_version)
    string(STRIP "${lean_version}" lean_version)
    message(STATUS "libmicrohttpd: lean build of Debian's libmicrohttpd ${lean_version} "
        "(${lean_dir})")
    add_library(edw_mhd_lean STATIC IMPORTED)
    set_target_properties(edw_mhd_lean PROPERTIES
        IMPORTED_LOCATION "${lean_dir}/lib/libmicrohttpd.a")
    target_include_directories(edw_mhd_lean INTERFACE "${lean_dir}/include")
    target_link_libraries(edw_mhd_lean INTERFACE Threads::Threads)
    target_link_libraries(edw_mhd INTERFACE edw_mhd_lean)
    set(EDW_MHD_DESC "lean: static, Debian libmicrohttpd ${lean_version}, HTTP only")
    # An upgraded libmicrohttpd12 (a Debian security update) re-runs cmake at the next build,
    # which builds the lean library of the new version (the cache is keyed by it).
    file(GLOB lean_dpkg_lists /var/lib/dpkg/info/libmicrohttpd12.list
        /var/lib/dpkg/info/libmicrohttpd12:*.list)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
        "${PROJECT_SOURCE_DIR}/scripts/lean-mhd.sh" "${PROJECT_SOURCE_DIR}/scripts/lean-lib.sh"
        ${lean_dpkg_lists})
else()
    message(FATAL_ERROR "EDW_MHD must be system or lean, not '${EDW_MHD}'")
endif()
