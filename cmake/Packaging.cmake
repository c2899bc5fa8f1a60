# `cmake --build . --target package`: a Debian package of the whole appliance.
# Runtime dependencies come from dpkg-shlibdeps (Debian's own library
# packages), plus the tools applianced runs (tar, openssl is a library here).
install(FILES appliance/systemd/lanturn.service DESTINATION lib/systemd/system)
install(FILES appliance/lanturn.conf.default DESTINATION share/lanturn)
install(FILES appliance/lanturn.conf.example turnd/turnd.conf.example signal/signald.conf.example
        DESTINATION share/doc/lanturn/examples)
install(DIRECTORY docs/ DESTINATION share/doc/lanturn FILES_MATCHING PATTERN "*.md")
install(FILES docs/man/turnd.8 docs/man/signald.8 docs/man/applianced.8 docs/man/lanturn-console.8
        docs/man/mediad.8
        DESTINATION share/man/man8)
install(FILES docs/man/appliancectl.1 docs/man/turn-probe.1 DESTINATION share/man/man1)
install(FILES docs/man/lanturn.conf.5 DESTINATION share/man/man5)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME lanturn)
set(CPACK_PACKAGE_VENDOR "lanturn")
set(CPACK_PACKAGE_CONTACT "lanturn maintainers <root@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "on-premises chat, calls and screen sharing with its own STUN/TURN server")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, tar, libwebsockets-evlib-ev")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/appliance/debian/postinst ${CMAKE_SOURCE_DIR}/appliance/debian/prerm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
