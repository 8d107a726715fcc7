# cmake/deb_strip_rpath.cmake — CPack pre-build script: a Debian package's
# programs and modules find libctxenc in /usr/lib, so the relative RUNPATH a
# `cmake --install --prefix P` needs is removed from the staged files (Debian
# policy; lintian's custom-library-search-path).
file(GLOB_RECURSE staged LIST_DIRECTORIES false "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*")
foreach(f IN LISTS staged)
  if(f MATCHES "/bin/ctxenc$" OR f MATCHES "\\.so(\\.[0-9]+)*$")
    if(NOT IS_SYMLINK "${f}")
      file(RPATH_REMOVE FILE "${f}")
    endif()
  endif()
endforeach()
