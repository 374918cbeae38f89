# curec_layer(NAME DEPS ... [EXCLUDE file.cpp ...]): a static library from every .cpp (and, with
# CUDA, .cu) in the folder but the EXCLUDEd ones. It is installed and exported as curec::NAME
# (cmake/CurecPackage.cmake): the source root is its include path in the tree, the installed
# include/ folder (headers under include/curec/NAME/) outside it.
function(curec_layer name)
  cmake_parse_arguments(L "" "" "DEPS;EXCLUDE" ${ARGN})
  file(GLOB cpp CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  set(srcs ${cpp})
  if(CUREC_WITH_CUDA)
    file(GLOB cu CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cu)
    list(APPEND srcs ${cu})
  endif()
  foreach(x ${L_EXCLUDE})
    list(REMOVE_ITEM srcs ${CMAKE_CURRENT_SOURCE_DIR}/${x})
  endforeach()
  if(CUREC_CUDA_EMULATE)
    curec_emulated_sources(srcs)
  endif()
  set(target curec_${name})
  if(NOT srcs)  # a layer not written yet
    add_library(${target} INTERFACE)
    set(scope INTERFACE)
  else()
    add_library(${target} STATIC ${srcs})
    set(scope PUBLIC)
  endif()
  target_include_directories(${target} ${scope} $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
                             $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${target} ${scope} ${L_DEPS})
  target_compile_features(${target} ${scope} cxx_std_20)
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
  install(TARGETS ${target} EXPORT curecTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  if(srcs AND CUREC_WITH_CUDA)
    target_compile_definitions(${target} PUBLIC CUREC_WITH_CUDA=1)
  endif()
  if(srcs AND CUREC_WITH_CUDA AND NOT CUREC_CUDA_EMULATE)
    set_target_properties(${target} PROPERTIES CUDA_SEPARABLE_COMPILATION OFF)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -lineinfo>)
  endif()
endfunction()

# With CUREC_CUDA_EMULATE: each .cu of `list_var` is replaced by its host-C++ rewrite
# (cudaemu/rewrite.py, same lines), compiled with cudaemu's device built-ins force-included.
function(curec_emulated_sources list_var)
  set(out)
  foreach(src ${${list_var}})
    if(NOT src MATCHES "\\.cu$")
      list(APPEND out ${src})
      continue()
    endif()
    get_filename_component(name ${src} NAME)
    set(gen ${CMAKE_CURRENT_BINARY_DIR}/emulated/${name}.cpp)
    add_custom_command(OUTPUT ${gen}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/emulated
      COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/cudaemu/rewrite.py ${src} ${gen}
      DEPENDS ${src} ${PROJECT_SOURCE_DIR}/cudaemu/rewrite.py
      COMMENT "cudaemu: rewriting ${name} as host C++" VERBATIM)
    set_source_files_properties(${gen} PROPERTIES
      COMPILE_OPTIONS "-include;${PROJECT_SOURCE_DIR}/cudaemu/include/curec_emu.h"
      INCLUDE_DIRECTORIES "${PROJECT_SOURCE_DIR}/cudaemu/include"
      OBJECT_DEPENDS ${PROJECT_SOURCE_DIR}/cudaemu/include/curec_emu.h)
    list(APPEND out ${gen})
  endforeach()
  set(${list_var} ${out} PARENT_SCOPE)
endfunction()
