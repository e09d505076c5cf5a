# SPDX-License-Identifier: Apache-2.0
# Unit tests (cmocka), one per module. Included from tests/CMakeLists.txt.
edw_unit_test(buf)
edw_unit_test(timefmt)
edw_unit_test(config)
edw_unit_test(payload)
edw_unit_test(token_bucket)
edw_unit_test(sqlite_queue)
edw_unit_test(worker)
edw_unit_test(azure_sharedkey)
target_compile_definitions(test_azure_sharedkey PRIVATE
    EDW_AZURE_VECTORS="${PROJECT_SOURCE_DIR}/tests/vectors/azure-sharedkey")
edw_unit_test(azure_common)
edw_unit_test(azure_parse)
edw_unit_test(azure_backend)
