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
    edw_lean_library(TARGET edw_mhd_lean RECIPE lean-mhd.sh CACHE "${EDW_MHD_CACHE}"
        PACKAGE libmicrohttpd12 ARCHIVE libmicrohttpd.a OPTION EDW_MHD VERSION_VAR lean_version)
    target_link_libraries(edw_mhd_lean INTERFACE Threads::Threads)
    target_link_libraries(edw_mhd INTERFACE edw_mhd_lean)
    set(EDW_MHD_DESC "lean: static, Debian libmicrohttpd ${lean_version}, HTTP only")
else()
    message(FATAL_ERROR "EDW_MHD must be system or lean, not '${EDW_MHD}'")
endif()
