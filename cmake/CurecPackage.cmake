# What `cmake --install build --prefix P` puts under P, and the CMake package a program finds it by:
#   lib/libcurec_{core,ops,data,nn,distributed,models,train,app}.a   the layers (static)
#   include/curec/<layer>/*.h, include/curec/curec.h                 headers, the umbrella
#   bin/curec, libexec/curec/bench_*                                  the tool, the benchmarks
#   lib/cmake/curec/                                                  find_package(curec 0.2 CONFIG)
#   share/doc/curec/LICENSE
# The package is relocatable: its files name each other relative to where they lie, and the
# libraries curec links from outside (BLAS, CUDA, cuDNN, NCCL, ...) are found again on the
# consumer's machine (curecConfig.cmake, with cmake/CurecImportedLibs.cmake).
include(CMakePackageConfigHelpers)
set(CUREC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/curec)

# core/version.h: CUREC_VERSION for `curec --version` and for programs built against the package.
configure_file(${CMAKE_CURRENT_LIST_DIR}/version.h.in ${PROJECT_BINARY_DIR}/generated/core/version.h @ONLY)

# Headers, as <curec/...> (cmake/CurecInstallHeaders.cmake says why they are rewritten).
install(CODE "
  set(CUREC_HEADER_ROOTS \"${PROJECT_SOURCE_DIR};${PROJECT_BINARY_DIR}/generated\")
  set(CUREC_HEADER_LAYERS \"core;ops;data;nn;models;train;app\")
  set(CUREC_HEADER_EXTRA curec.h)
  set(CUREC_HEADER_STAGE \"${PROJECT_BINARY_DIR}/installed-headers\")
  set(CUREC_HEADER_DESTINATION \"${CMAKE_INSTALL_INCLUDEDIR}/curec\")
  include(\"${CMAKE_CURRENT_LIST_DIR}/CurecInstallHeaders.cmake\")
")

# curec::curec: every layer (curec_app links the rest) with their usage requirements.
add_library(curec_package INTERFACE)
target_link_libraries(curec_package INTERFACE curec_app)
set_target_properties(curec_package PROPERTIES EXPORT_NAME curec)
add_library(curec::curec ALIAS curec_package)
install(TARGETS curec_package EXPORT curecTargets)
install(EXPORT curecTargets NAMESPACE curec:: DESTINATION ${CUREC_CMAKE_DIR})

foreach(flag CUREC_WITH_CUDA CUREC_WITH_MPI CUREC_WITH_DOWNLOAD)  # ON/OFF in the config file
  if(${flag})
    set(${flag} ON)
  else()
    set(${flag} OFF)
  endif()
endforeach()
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/curecConfig.cmake.in ${PROJECT_BINARY_DIR}/curecConfig.cmake
  INSTALL_DESTINATION ${CUREC_CMAKE_DIR} PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
# 0.x: a minor release may change the API, so 0.2.x satisfies find_package(curec 0.2) but not 0.1.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/curecConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/curecConfig.cmake ${PROJECT_BINARY_DIR}/curecConfigVersion.cmake
              ${CMAKE_CURRENT_LIST_DIR}/CurecImportedLibs.cmake ${CMAKE_CURRENT_LIST_DIR}/CurecFindCudaLib.cmake
        DESTINATION ${CUREC_CMAKE_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})

# `cpack -G DEB` in the build folder: the same layout under /usr.
set(CPACK_PACKAGE_NAME curec)
set(CPACK_PACKAGE_VENDOR "curec contributors")
set(CPACK_PACKAGE_CONTACT "curec contributors")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
# What a program built against the package needs (the CUDA libraries come from NVIDIA's installers).
set(deb_depends "g++, cmake, libopenblas-dev, nlohmann-json3-dev, libcli11-dev")
if(CUREC_WITH_DOWNLOAD)
  string(APPEND deb_depends ", libzip-dev, libcurl4-openssl-dev, libssl-dev")
endif()
if(CUREC_WITH_MPI)
  string(APPEND deb_depends ", libopenmpi-dev")
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${deb_depends}")
if(CUREC_WITH_CUDA)
  set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "${PROJECT_DESCRIPTION} (CUDA build: needs the CUDA toolkit, cuDNN and NCCL)")
endif()
include(CPack)
