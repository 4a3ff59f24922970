# `cmake --install` puts the headers, the exported llm::llm target and a package config that
# finds the same dependencies, so `find_package(llm CONFIG REQUIRED)` just works.
include(CMakePackageConfigHelpers)

set(LLM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/llm)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/llm DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS llm ${llm_backends} EXPORT llmTargets)
install(EXPORT llmTargets NAMESPACE llm:: DESTINATION ${LLM_CMAKE_DIR})
# For users of the build tree (FetchContent without install).
export(EXPORT llmTargets NAMESPACE llm:: FILE ${PROJECT_BINARY_DIR}/llmTargets.cmake)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/llmConfig.cmake.in
  ${PROJECT_BINARY_DIR}/llmConfig.cmake INSTALL_DESTINATION ${LLM_CMAKE_DIR})
# Header-only: any architecture may use it.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/llmConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
  ${PROJECT_BINARY_DIR}/llmConfig.cmake
  ${PROJECT_BINARY_DIR}/llmConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/llmDependencies.cmake
  DESTINATION ${LLM_CMAKE_DIR})
