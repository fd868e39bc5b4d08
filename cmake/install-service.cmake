# install-service.cmake - run by `cmake --install`: writes the systemd units
# for the prefix given then (so `--prefix` is honoured like everywhere else)
# and installs them and the example daemon configurations.
# Set by CMakeLists.txt: FERRY_SRC, FERRY_BIN, FERRY_BINDIR, FERRY_SYSCONFDIR,
# FERRY_PC_SYSTEM_DIR, FERRY_PC_USER_DIR.
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(IS_ABSOLUTE "${FERRY_BINDIR}")
	set(BINDIR "${FERRY_BINDIR}")
else()
	set(BINDIR "${prefix}/${FERRY_BINDIR}")
endif()
# As GNUInstallDirs: /usr keeps its configuration in /etc, /opt/X in /etc/opt/X.
if(IS_ABSOLUTE "${FERRY_SYSCONFDIR}")
	set(SYSCONFDIR "${FERRY_SYSCONFDIR}")
elseif(prefix STREQUAL "/usr")
	set(SYSCONFDIR "/etc")
elseif(prefix MATCHES "^/opt/")
	set(SYSCONFDIR "/etc${prefix}")
else()
	set(SYSCONFDIR "${prefix}/${FERRY_SYSCONFDIR}")
endif()
# Under /usr, where systemd looks (pkg-config systemd); elsewhere in the prefix.
set(system_dir "${prefix}/lib/systemd/system")
set(user_dir "${prefix}/lib/systemd/user")
if(prefix STREQUAL "/usr" AND FERRY_PC_SYSTEM_DIR)
	set(system_dir "${FERRY_PC_SYSTEM_DIR}")
endif()
if(prefix STREQUAL "/usr" AND FERRY_PC_USER_DIR)
	set(user_dir "${FERRY_PC_USER_DIR}")
endif()

foreach(unit system/ferry-serve.service system/ferry-authd.service
		user/ferry-serve.service user/ferry-renew.service)
	configure_file("${FERRY_SRC}/contrib/systemd/${unit}.in"
		"${FERRY_BIN}/systemd/${unit}" @ONLY)
endforeach()
file(INSTALL "${FERRY_BIN}/systemd/system/ferry-serve.service"
	"${FERRY_BIN}/systemd/system/ferry-authd.service"
	DESTINATION "${system_dir}")
file(INSTALL "${FERRY_BIN}/systemd/user/ferry-serve.service"
	"${FERRY_BIN}/systemd/user/ferry-renew.service"
	"${FERRY_SRC}/contrib/systemd/user/ferry-renew.timer"
	DESTINATION "${user_dir}")

# An example configuration already there (edited by the admin) is kept, as
# OpenSSH's make install keeps sshd_config.
foreach(conf serve.conf authd.conf)
	if(EXISTS "$ENV{DESTDIR}${SYSCONFDIR}/ferry/${conf}")
		message(STATUS "Kept: $ENV{DESTDIR}${SYSCONFDIR}/ferry/${conf}")
	else()
		file(INSTALL "${FERRY_SRC}/contrib/config/${conf}"
			DESTINATION "${SYSCONFDIR}/ferry")
	endif()
endforeach()
