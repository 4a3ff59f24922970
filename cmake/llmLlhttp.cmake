# llhttp, the parser inside Node.js, from Debian's node-llhttp sources: a second opinion for the
# differential tests and fuzzers, never part of the library.
#   llm_add_llhttp(<target> [compile options...])  defines a static library, or nothing (and a
#   warning) when the sources are missing; check `if(TARGET <target>)`.
find_path(LLM_LLHTTP_INCLUDE_DIR llhttp.h PATHS /usr/share/include/llhttp)
find_path(LLM_LLHTTP_SOURCE_DIR llhttp.c PATHS /usr/share/llhttp)
if(LLM_LLHTTP_INCLUDE_DIR AND LLM_LLHTTP_SOURCE_DIR)
  enable_language(C) # at directory scope: inside a function its settings would be lost
endif()

function(llm_add_llhttp target)
  if(NOT LLM_LLHTTP_INCLUDE_DIR OR NOT LLM_LLHTTP_SOURCE_DIR)
    message(WARNING "llhttp sources not found (Debian package node-llhttp): ${target} is not built")
    return()
  endif()
  add_library(${target} STATIC ${LLM_LLHTTP_SOURCE_DIR}/llhttp.c ${LLM_LLHTTP_SOURCE_DIR}/api.c
                               ${LLM_LLHTTP_SOURCE_DIR}/http.c)
  target_include_directories(${target} SYSTEM PUBLIC ${LLM_LLHTTP_INCLUDE_DIR})
  target_compile_options(${target} PRIVATE ${ARGN})
endfunction()
