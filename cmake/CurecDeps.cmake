# Third-party libraries: a CPU BLAS, doctest, CLI11, nlohmann/json, libzip.
# scripts/install-deps installs them (Debian/Ubuntu packages).
find_package(Threads REQUIRED)
# PATH_SUFFIXES also find OpenBLAS unpacked under a CMAKE_PREFIX_PATH (scripts/gpu-check).
find_path(CBLAS_INCLUDE_DIR cblas.h
  PATHS /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/x86_64-linux-gnu /usr/include/openblas
  PATH_SUFFIXES include/x86_64-linux-gnu/openblas-pthread include/x86_64-linux-gnu include/openblas)
find_library(CBLAS_LIBRARY NAMES openblas cblas blas
  PATH_SUFFIXES lib/x86_64-linux-gnu/openblas-pthread lib/x86_64-linux-gnu)
if(NOT CBLAS_INCLUDE_DIR OR NOT CBLAS_LIBRARY)
  message(FATAL_ERROR "No CPU BLAS found (cblas.h + libopenblas); run scripts/install-deps or install libopenblas-dev")
endif()
add_library(curec::blas INTERFACE IMPORTED)
target_include_directories(curec::blas INTERFACE ${CBLAS_INCLUDE_DIR})
target_link_libraries(curec::blas INTERFACE ${CBLAS_LIBRARY})

find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_path(ZIP_INCLUDE_DIR zip.h)
find_library(ZIP_LIBRARY zip)
if(ZIP_INCLUDE_DIR AND ZIP_LIBRARY)
  add_library(curec::zip INTERFACE IMPORTED)
  target_include_directories(curec::zip INTERFACE ${ZIP_INCLUDE_DIR})
  target_link_libraries(curec::zip INTERFACE ${ZIP_LIBRARY})
endif()
if(CUREC_BUILD_TESTS)
  find_package(doctest REQUIRED)
endif()

# Data downloads (optional): libcurl to fetch, OpenSSL for SHA-1/MD5, libzip to unpack.
# CUREC_DOWNLOADS=OFF builds without them (a GPU machine with no network, where a static libcurl
# from unpacked packages would not link).
option(CUREC_DOWNLOADS "Build `curec data get` (libcurl, OpenSSL, libzip) when they are found" ON)
if(CUREC_DOWNLOADS)
  find_package(CURL QUIET)
  find_package(OpenSSL QUIET COMPONENTS Crypto)
endif()
