# Third-party libraries: a CPU BLAS, doctest, CLI11, nlohmann/json, libzip.
# scripts/install-deps installs them (Debian/Ubuntu packages).
find_package(Threads REQUIRED)
include(CurecImportedLibs)
curec_import_blas(error)
if(error)
  message(FATAL_ERROR "${error}")
endif()

find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
curec_import_zip(zip_missing)  # optional: curec::zip exists when found
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
