# Decides whether the CUDA backend is built and finds cuBLAS, cuDNN, NCCL and cuSOLVER.
# CUREC_CUDA_EMULATE=ON builds it too, without nvcc: every .cu file is compiled as host C++
# against the emulated CUDA device of cudaemu/ (its headers come from the toolkit, its
# libraries are cudaemu's stand-ins), so the cuda suite runs on a machine without a GPU.
include(CheckLanguage)
set(CUREC_WITH_CUDA OFF)
option(CUREC_CUDA_EMULATE "Compile the .cu files as host C++ and run them on the emulated CUDA device (cudaemu/)" OFF)
if(CUREC_CUDA_EMULATE)
  set(CUREC_WITH_CUDA ON)
  find_package(CUDAToolkit REQUIRED)
  find_package(Python3 REQUIRED COMPONENTS Interpreter)  # runs cudaemu/rewrite.py
  include(CurecImportedLibs)
  foreach(lib cudnn nccl)
    string(TOUPPER ${lib} LIB)
    curec_import_cuda_lib(${lib} error)  # for the headers; cudaemu stands in for the library
    if(NOT ${LIB}_INCLUDE_DIR)
      message(FATAL_ERROR "${error}")
    endif()
  endforeach()
  message(STATUS "curec: CUDA backend ON, emulated (cudaemu/)")
  return()
endif()
if(NOT CUREC_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(CUREC_WITH_CUDA ON)
  elseif(CUREC_CUDA STREQUAL "ON")
    message(FATAL_ERROR "CUREC_CUDA=ON but no CUDA compiler (nvcc) was found; install the CUDA toolkit or use -DCUREC_CUDA=OFF")
  endif()
endif()

if(CUREC_WITH_CUDA)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90)  # H100 / H200; override with -DCMAKE_CUDA_ARCHITECTURES=...
  endif()
  enable_language(CUDA)
  # CMake < 3.26 does not know nvcc's C++20 flag: tell it.
  if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
  endif()
  set(CMAKE_CUDA_STANDARD 20)
  # Denormal floats flushed to zero in every kernel, as the CPU backend flushes them (FTZ/DAZ,
  # core/denormals.h), so both backends compute the same function on tiny values.
  add_compile_options($<$<COMPILE_LANGUAGE:CUDA>:-ftz=true>)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  find_package(CUDAToolkit REQUIRED)
  # cuDNN 9 and NCCL 2, also where an image ships only libcudnn.so.9 / libnccl.so.2 or has them
  # from pip wheels (site-packages/nvidia/{cudnn,nccl}); CUREC_CUDNN_ROOT / CUREC_NCCL_ROOT point
  # at any other install (e.g. one carried to a machine without network).
  include(CurecImportedLibs)
  set(_cuda_lib_dirs)
  foreach(lib cudnn nccl)
    string(TOUPPER ${lib} LIB)
    curec_import_cuda_lib(${lib} error)
    if(error)
      message(FATAL_ERROR "${error}")
    endif()
    get_filename_component(_dir ${${LIB}_LIBRARY} DIRECTORY)
    list(APPEND _cuda_lib_dirs ${_dir})
    message(STATUS "curec: ${lib} ${${LIB}_FOUND_IN}")
  endforeach()
  # Where they are, for scripts/gpu-check's LD_LIBRARY_PATH (cuDNN 9 loads its parts from there).
  list(REMOVE_DUPLICATES _cuda_lib_dirs)
  string(REPLACE ";" ":" _cuda_lib_path "${_cuda_lib_dirs}")
  file(WRITE ${CMAKE_BINARY_DIR}/cuda-lib-path.txt "${_cuda_lib_path}\n")
endif()
message(STATUS "curec: CUDA backend ${CUREC_WITH_CUDA}")
