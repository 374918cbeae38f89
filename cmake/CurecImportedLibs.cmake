# The imported targets curec's layers link that no package of their own provides: curec::blas
# (a CPU BLAS), curec::zip (libzip), curec::cudnn and curec::nccl. The tree (CurecDeps.cmake,
# CurecCuda.cmake) and the installed package (curecConfig.cmake) both create them with these
# functions, so a program built against an installed curec finds the libraries again where its
# own machine has them: no path of the machine that built curec is kept in the package.
# Each function sets ERROR_VAR to a message naming what is missing and how to install it, or to "".
include(${CMAKE_CURRENT_LIST_DIR}/CurecFindCudaLib.cmake)

# An INTERFACE IMPORTED target of one header folder and one library (created once).
function(curec_imported_lib target include_dir library)
  if(NOT TARGET ${target})
    add_library(${target} INTERFACE IMPORTED)
    target_include_directories(${target} INTERFACE ${include_dir})
    target_link_libraries(${target} INTERFACE ${library})
  endif()
endfunction()

# curec::blas: cblas.h and OpenBLAS (or another CBLAS). PATH_SUFFIXES also find OpenBLAS
# unpacked under a CMAKE_PREFIX_PATH (scripts/gpu-check).
function(curec_import_blas error_var)
  find_path(CBLAS_INCLUDE_DIR cblas.h
    PATHS /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/x86_64-linux-gnu /usr/include/openblas
    PATH_SUFFIXES include/x86_64-linux-gnu/openblas-pthread include/x86_64-linux-gnu include/openblas)
  find_library(CBLAS_LIBRARY NAMES openblas cblas blas
    PATH_SUFFIXES lib/x86_64-linux-gnu/openblas-pthread lib/x86_64-linux-gnu)
  if(NOT CBLAS_INCLUDE_DIR OR NOT CBLAS_LIBRARY)
    set(${error_var} "No CPU BLAS found (cblas.h + libopenblas); run scripts/install-deps or install libopenblas-dev" PARENT_SCOPE)
    return()
  endif()
  curec_imported_lib(curec::blas ${CBLAS_INCLUDE_DIR} ${CBLAS_LIBRARY})
  set(${error_var} "" PARENT_SCOPE)
endfunction()

# curec::zip: libzip (curec data get unpacks with it).
function(curec_import_zip error_var)
  find_path(ZIP_INCLUDE_DIR zip.h)
  find_library(ZIP_LIBRARY zip)
  if(NOT ZIP_INCLUDE_DIR OR NOT ZIP_LIBRARY)
    set(${error_var} "libzip not found (zip.h + libzip); install libzip-dev" PARENT_SCOPE)
    return()
  endif()
  curec_imported_lib(curec::zip ${ZIP_INCLUDE_DIR} ${ZIP_LIBRARY})
  set(${error_var} "" PARENT_SCOPE)
endfunction()

# curec::cudnn (cuDNN 9 or 8) or curec::nccl (NCCL 2), after find_package(CUDAToolkit); also sets
# <NAME>_FOUND_IN (where, in words) in the caller.
function(curec_import_cuda_lib name error_var)
  string(TOUPPER ${name} NAME)
  if(name STREQUAL "cudnn")
    set(versions 9 8)
  else()
    set(versions 2)
  endif()
  curec_find_cuda_lib(${name} HEADER ${name}.h VERSIONS ${versions}
    HINTS ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include /usr/local/cuda/lib64
          /usr/include/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu)
  set(${NAME}_FOUND_IN "${${NAME}_FOUND_IN}" PARENT_SCOPE)
  if(NOT ${NAME}_INCLUDE_DIR OR NOT ${NAME}_LIBRARY)
    set(${error_var} "CUDA build needs ${name} (${name}.h and lib${name}.so or lib${name}.so.N): ${${NAME}_FOUND_IN}. "
                     "Install it (apt, or pip install nvidia-${name}-cu12), set CUREC_${NAME}_ROOT to its folder, "
                     "or configure with -DCUREC_CUDA=OFF" PARENT_SCOPE)
    return()
  endif()
  curec_imported_lib(curec::${name} ${${NAME}_INCLUDE_DIR} ${${NAME}_LIBRARY})
  set(${error_var} "" PARENT_SCOPE)
endfunction()
