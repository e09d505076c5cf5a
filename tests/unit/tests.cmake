# SPDX-License-Identifier: Apache-2.0
# Unit tests (cmocka), one per module. Included from tests/CMakeLists.txt.
edw_unit_test(buf)
edw_unit_test(timefmt)
edw_unit_test(config)
edw_unit_test(batch)
edw_unit_test(payload)
edw_unit_test(token_bucket)
edw_unit_test(sqlite_queue)
edw_unit_test(worker)
edw_unit_test(scaler)
# AWS backend: SigV4 (public suite + our JSON-protocol cases), SQS, DynamoDB, credentials
edw_unit_test(sigv4)
set_tests_properties(unit_sigv4 PROPERTIES LABELS "unit;vectors")
edw_unit_test(aws_common)
edw_unit_test(aws_sqs)
edw_unit_test(aws_dynamodb)
edw_unit_test(sigv4_json)
target_compile_definitions(test_sigv4_json PRIVATE
    EDW_TEST_VECTORS="${PROJECT_SOURCE_DIR}/tests/vectors")
set_tests_properties(unit_sigv4_json PROPERTIES LABELS "unit;vectors")
edw_unit_test(aws_parse_fuzz)
set_tests_properties(unit_aws_parse_fuzz PROPERTIES LABELS "unit;fuzz-smoke")
edw_unit_test(metrics)
edw_unit_test(health)
# Azure backend: Shared Key vectors, connection strings, parsers, backend logic
edw_unit_test(azure_sharedkey)
target_compile_definitions(test_azure_sharedkey PRIVATE
    EDW_AZURE_VECTORS="${PROJECT_SOURCE_DIR}/tests/vectors/azure-sharedkey")
edw_unit_test(azure_common)
edw_unit_test(azure_parse)
edw_unit_test(azure_backend)
edw_unit_test(azure_parse_fuzz)
set_tests_properties(unit_azure_parse_fuzz PROPERTIES LABELS "unit;fuzz-smoke")
# Azure identity: token sources (workload identity, managed identity, cache)
edw_unit_test(token)
edw_unit_test(azure_identity)
# The shutdown deadline: backend retries and timeouts end with the grace
edw_unit_test(shutdown)
