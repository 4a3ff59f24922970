# What the headers of llm::llm need, found the same way in-tree and from the installed package.
include(CMakeFindDependencyMacro)
include(GNUInstallDirs)

# Inside llmConfig.cmake a missing dependency must make find_package(llm) fail politely;
# in llm's own build it is a hard error.
macro(llm_find_dependency)
  if(CMAKE_FIND_PACKAGE_NAME STREQUAL "llm")
    find_dependency(${ARGN})
  else()
    find_package(${ARGN} REQUIRED)
  endif()
endmacro()

llm_find_dependency(Threads)
llm_find_dependency(Boost 1.81 CONFIG COMPONENTS json)
llm_find_dependency(OpenSSL 3)

# Standalone Asio ships no CMake package: find its headers and wrap them in a target.
if(NOT TARGET llm::asio)
  find_path(LLM_ASIO_INCLUDE_DIR asio.hpp)
  if(NOT LLM_ASIO_INCLUDE_DIR)
    message(FATAL_ERROR "llm needs standalone Asio (>= 1.22): install libasio-dev, or set LLM_ASIO_INCLUDE_DIR")
  endif()
  add_library(llm::asio INTERFACE IMPORTED)
  set_target_properties(llm::asio PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${LLM_ASIO_INCLUDE_DIR}")
endif()

# The optional backends' libraries. A missing one only leaves out its target (llm::sqlite,
# llm::redis); llm::llm never needs them.
find_package(SQLite3 QUIET)
if(NOT TARGET llm::hiredis)
  find_path(LLM_HIREDIS_INCLUDE_DIR hiredis/hiredis.h)
  find_library(LLM_HIREDIS_LIBRARY hiredis)
  if(LLM_HIREDIS_INCLUDE_DIR AND LLM_HIREDIS_LIBRARY)
    add_library(llm::hiredis UNKNOWN IMPORTED)
    set_target_properties(llm::hiredis PROPERTIES
      IMPORTED_LOCATION "${LLM_HIREDIS_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${LLM_HIREDIS_INCLUDE_DIR}")
  endif()
endif()
