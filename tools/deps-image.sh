# deps-image.sh - sourced by tools/test and tools/test-image (after tools/deps.sh):
# the host packages that build the appliance image and boot it under qemu.
#   debootstrap, squashfs-tools, dosfstools, mtools, fdisk, e2fsprogs: the disk image, without loop mounts
#   grub-efi-amd64-bin, grub-common: GRUB for UEFI and grub-editenv
#   ovmf, qemu-system-x86, qemu-utils: UEFI boots under qemu (TCG) and qcow2/VMDK/VHDX conversion
#   rauc, openssl: signed update bundles and the throwaway test CA
#   coturn: turnutils_stunclient for the STUN check against the booted image
LANTURN_IMAGE_PACKAGES=(debootstrap squashfs-tools dosfstools mtools fdisk e2fsprogs
                        grub-efi-amd64-bin grub-common ovmf qemu-system-x86 qemu-utils
                        rauc openssl coturn curl python3)
