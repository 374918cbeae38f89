# curec_find_cuda_lib(NAME HEADER header.h [VERSIONS 9 8 ...] [HINTS dir ...])
# Finds a CUDA library such as cuDNN or NCCL and sets NAME_INCLUDE_DIR, NAME_LIBRARY (upper-case
# NAME, cached) and NAME_FOUND_IN (where, in words). Looks in CUREC_<NAME>_ROOT (CMake or
# environment variable), <NAME>_ROOT, the HINTS, the Python wheels' site-packages/nvidia/<name>
# (pip's nvidia-cudnn-cu12 / nvidia-nccl-cu12: include/ and lib/ there), then the system. It
# accepts lib<name>.so or, on images that ship only the versioned file, lib<name>.so.<version>.
# Python site-packages folders come from CUREC_PYTHON_SITE_DIRS, else from asking python3 and
# the usual places. With CUREC_FIND_ONLY_HINTS set it looks nowhere else (for its test).
# Usable in script mode (cmake -P), which tests/test_cmake_find.cpp relies on.

function(curec_python_site_dirs out)
  if(DEFINED CUREC_PYTHON_SITE_DIRS)
    set(${out} ${CUREC_PYTHON_SITE_DIRS} PARENT_SCOPE)
    return()
  endif()
  set(dirs)
  find_program(CUREC_PYTHON3 NAMES python3 python)
  if(CUREC_PYTHON3)
    execute_process(
      COMMAND ${CUREC_PYTHON3} -c
        "import site, sys; print(';'.join(site.getsitepackages() + [site.getusersitepackages()] + sys.path))"
      OUTPUT_VARIABLE py_dirs OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE py_rc)
    if(py_rc EQUAL 0)
      list(APPEND dirs ${py_dirs})
    endif()
  endif()
  file(GLOB usual LIST_DIRECTORIES true /usr/lib/python3*/site-packages /usr/lib/python3*/dist-packages
       /usr/local/lib/python3*/site-packages /usr/local/lib/python3*/dist-packages
       /opt/conda/lib/python3*/site-packages $ENV{HOME}/.local/lib/python3*/site-packages)
  list(APPEND dirs ${usual})
  list(REMOVE_DUPLICATES dirs)
  set(${out} ${dirs} PARENT_SCOPE)
endfunction()

function(curec_find_cuda_lib name)
  cmake_parse_arguments(F "" "HEADER" "VERSIONS;HINTS" ${ARGN})
  string(TOUPPER ${name} NAME)
  set(roots ${CUREC_${NAME}_ROOT} $ENV{CUREC_${NAME}_ROOT} $ENV{${NAME}_ROOT})
  curec_python_site_dirs(sites)
  foreach(sp ${sites})
    if(IS_DIRECTORY "${sp}/nvidia/${name}")
      list(APPEND roots "${sp}/nvidia/${name}")
    endif()
  endforeach()
  set(names ${name})
  foreach(v ${F_VERSIONS})
    list(APPEND names lib${name}.so.${v})
  endforeach()
  set(only)
  if(CUREC_FIND_ONLY_HINTS)
    set(only NO_DEFAULT_PATH)
  endif()
  find_path(${NAME}_INCLUDE_DIR ${F_HEADER} HINTS ${roots} ${F_HINTS} PATH_SUFFIXES include ${only})
  find_library(${NAME}_LIBRARY NAMES ${names} HINTS ${roots} ${F_HINTS}
               PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu ${only})
  set(where "not found (looked in: ${roots} ${F_HINTS} and the system)")
  if(${NAME}_INCLUDE_DIR AND ${NAME}_LIBRARY)
    set(where "${${NAME}_LIBRARY} (headers ${${NAME}_INCLUDE_DIR})")
    foreach(sp ${sites})
      string(FIND "${${NAME}_LIBRARY}" "${sp}/nvidia/" at)
      if(at EQUAL 0)
        set(where "${where}, from a Python wheel")
      endif()
    endforeach()
  endif()
  set(${NAME}_FOUND_IN "${where}" PARENT_SCOPE)
endfunction()
