# Built by `make firmware BOARD=esp32_devkitc`, which writes sdkconfig.partitions
# (the project's partition table, from host/micropos/boards.py) beside the build.
set(IDF_TARGET esp32)
set(SDKCONFIG_DEFAULTS
    boards/sdkconfig.base
    ${MICROPOS_SDKCONFIG_PARTITIONS}
)
set(MICROPY_FROZEN_MANIFEST ${MICROPY_BOARD_DIR}/manifest.py)
