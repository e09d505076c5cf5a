# SPDX-License-Identifier: Apache-2.0
# edw_lean_library(): what cmake/Curl.cmake and cmake/Mhd.cmake share for their `lean` choice.
# Runs RECIPE (scripts/lean-*.sh) with --cache CACHE; it builds only when the cache has no build
# for the installed PACKAGE's version and the recipe's flags, its progress (a minute or less the
# first time) and errors going to the terminal. Then defines the imported static library TARGET
# (DIR/lib/ARCHIVE, DIR/include) and sets VERSION_VAR to the Debian version it was built from.
# An upgraded PACKAGE (a Debian security update) re-runs cmake at the next build, which builds
# the lean library of the new version (the cache is keyed by it). OPTION names the cmake option
# for the error message ("-DOPTION=system" is the way around a failed build).
function(edw_lean_library)
    cmake_parse_arguments(L "" "TARGET;RECIPE;CACHE;PACKAGE;ARCHIVE;OPTION;VERSION_VAR" "" ${ARGN})
    execute_process(
        COMMAND "${PROJECT_SOURCE_DIR}/scripts/${L_RECIPE}" --cache "${L_CACHE}"
        RESULT_VARIABLE rc
        OUTPUT_VARIABLE out
        OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "${L_OPTION}=lean: scripts/${L_RECIPE} failed (see the lines above). "
            "Configure with -D${L_OPTION}=system to use the system's ${L_PACKAGE} instead.")
    endif()
    string(REGEX REPLACE ".*\n" "" dir "${out}")
    file(READ "${dir}/version" version)
    string(STRIP "${version}" version)
    message(STATUS "${L_OPTION}=lean: ${L_ARCHIVE} from Debian's source of ${L_PACKAGE} "
        "${version} (${dir})")
    add_library(${L_TARGET} STATIC IMPORTED)
    set_target_properties(${L_TARGET} PROPERTIES IMPORTED_LOCATION "${dir}/lib/${L_ARCHIVE}")
    target_include_directories(${L_TARGET} INTERFACE "${dir}/include")
    file(GLOB dpkg_lists "/var/lib/dpkg/info/${L_PACKAGE}.list"
        "/var/lib/dpkg/info/${L_PACKAGE}:*.list")
    set_property(DIRECTORY "${PROJECT_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
        "${PROJECT_SOURCE_DIR}/scripts/${L_RECIPE}" "${PROJECT_SOURCE_DIR}/scripts/lean-lib.sh"
        ${dpkg_lists})
    set(${L_VERSION_VAR} "${version}" PARENT_SCOPE)
endfunction()
