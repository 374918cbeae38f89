# Run by `cmake --install` (cmake/CurecPackage.cmake passes the CUREC_HEADER_* variables): copies
# every layer's headers, the generated ones and the umbrella curec.h to
# <prefix>/CUREC_HEADER_DESTINATION, keeping their folders (core/tensor.h -> curec/core/tensor.h).
# In the tree a header names another by its path from the source root ("core/tensor.h"); the
# installed copy names it <curec/core/tensor.h>. So a program needs only <prefix>/include on its
# include path, and no folder of its own (a core/ or nn/ beside its sources, on its -I path) can
# stand in for one of curec's headers.
list(JOIN CUREC_HEADER_LAYERS "|" layers)
foreach(root ${CUREC_HEADER_ROOTS})
  set(patterns)
  foreach(layer ${CUREC_HEADER_LAYERS})
    list(APPEND patterns ${root}/${layer}/*.h)
  endforeach()
  file(GLOB_RECURSE headers RELATIVE ${root} ${patterns})
  foreach(extra ${CUREC_HEADER_EXTRA})
    if(EXISTS ${root}/${extra})
      list(APPEND headers ${extra})
    endif()
  endforeach()
  foreach(rel ${headers})
    file(READ ${root}/${rel} text)
    string(REGEX REPLACE "#include \"((${layers})/[^\"]+)\"" "#include <curec/\\1>" text "${text}")
    set(staged ${CUREC_HEADER_STAGE}/${rel})
    set(old "")
    if(EXISTS ${staged})
      file(READ ${staged} old)
    endif()
    if(NOT old STREQUAL text)  # rewritten only when it changed, so a reinstall says Up-to-date
      file(WRITE ${staged} "${text}")
    endif()
    get_filename_component(dir ${rel} DIRECTORY)
    file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/${CUREC_HEADER_DESTINATION}/${dir}" TYPE FILE FILES ${staged})
  endforeach()
endforeach()
