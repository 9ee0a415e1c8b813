# Included from the root CMakeLists.txt: the fuzz harnesses built with a plain
# main() (fuzz/replay_main.c, no libFuzzer) against the sanitized library, and
# two tests, any compiler, seconds:
#   fuzz.make-corpus    records fresh handshakes against this build's test PKI
#                       (fuzz/make_corpus.c) into BUILD/fuzz-corpus, and checks
#                       that each replays to the end (determinism);
#   fuzz.replay-corpus  replays every file of fuzz/corpus/ (committed) and of
#                       BUILD/fuzz-corpus through the harnesses.
set(LATCH_FUZZ_REPLAY_HARNESSES fuzz_server fuzz_server_after_hello fuzz_client
                                fuzz_certificate fuzz_session fuzz_http)
if(TARGET latch-sanitized)
  set(latch_fuzz_replay_lib latch-sanitized)
  set(latch_fuzz_replay_flags ${LATCH_SANITIZE_FLAGS})
else()
  set(latch_fuzz_replay_lib latch)
  set(latch_fuzz_replay_flags "")
endif()

set(latch_fuzz_replay_sources ${CMAKE_SOURCE_DIR}/fuzz/replay_main.c
                              ${CMAKE_SOURCE_DIR}/fuzz/fuzz_common.c)
foreach(h ${LATCH_FUZZ_REPLAY_HARNESSES})
  # one wrapper per harness renames its entry point
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/fuzz-replay/${h}_entry.c
       CONTENT "#define LLVMFuzzerTestOneInput fuzz_entry_${h}\n#include \"${CMAKE_SOURCE_DIR}/fuzz/${h}.c\"\n")
  list(APPEND latch_fuzz_replay_sources ${CMAKE_BINARY_DIR}/fuzz-replay/${h}_entry.c)
endforeach()

add_executable(fuzz_replay ${latch_fuzz_replay_sources})
target_include_directories(fuzz_replay PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/fuzz)
target_compile_definitions(fuzz_replay PRIVATE LATCH_TEST_DATA="${LATCH_TEST_DATA_DIR}"
                           LATCH_FUZZ_CORPUS="${CMAKE_SOURCE_DIR}/fuzz/corpus")
target_compile_options(fuzz_replay PRIVATE ${LATCH_WARNINGS} ${latch_fuzz_replay_flags})
target_link_libraries(fuzz_replay PRIVATE ${latch_fuzz_replay_lib} ${latch_fuzz_replay_flags})

add_executable(fuzz_make_corpus ${CMAKE_SOURCE_DIR}/fuzz/make_corpus.c
                                ${CMAKE_SOURCE_DIR}/fuzz/fuzz_common.c)
target_include_directories(fuzz_make_corpus PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/fuzz)
target_compile_definitions(fuzz_make_corpus PRIVATE LATCH_TEST_DATA="${LATCH_TEST_DATA_DIR}"
                           LATCH_FUZZ_CORPUS="${CMAKE_SOURCE_DIR}/fuzz/corpus")
target_compile_options(fuzz_make_corpus PRIVATE ${LATCH_WARNINGS} ${latch_fuzz_replay_flags})
target_link_libraries(fuzz_make_corpus PRIVATE ${latch_fuzz_replay_lib} ${latch_fuzz_replay_flags})

add_test(NAME fuzz.make-corpus
         COMMAND fuzz_make_corpus ${CMAKE_BINARY_DIR}/fuzz-corpus)
set_tests_properties(fuzz.make-corpus PROPERTIES TIMEOUT 300 FIXTURES_SETUP fuzz-corpus)
add_test(NAME fuzz.replay-corpus
         COMMAND fuzz_replay --roots ${CMAKE_SOURCE_DIR}/fuzz/corpus ${CMAKE_BINARY_DIR}/fuzz-corpus)
set_tests_properties(fuzz.replay-corpus PROPERTIES TIMEOUT 300 FIXTURES_REQUIRED fuzz-corpus)
