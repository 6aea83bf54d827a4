"""`manage.py device_profiles build DIR [DIR...] --output FILE`: build a device-profile file from labelled originals;
`manage.py device_profiles show`: say which profile file is in force and its version."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forensics.device_profiles import PROFILE_ENV, profiles_build, profiles_load, profiles_write
from forensics.device_profiles_build import (
    CAMERA_ORIGINAL_CRITERION,
    VIDEO_ORIGINAL_CRITERION,
    originals_read,
    software_tables_generate,
    video_originals_read,
)


class Command(BaseCommand):
    help = "Build a device-profile file from folders of camera originals, or show the profile file in force."
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        build = actions.add_parser("build", help="Build a profile file from folders of labelled originals.")
        build.add_argument(
            "folders", nargs="+", type=Path, help="Folders searched recursively for JPEG and MP4/MOV files."
        )
        build.add_argument("--output", required=True, type=Path, help="Where to write the profile file (JSON).")
        build.add_argument(
            "--calibration-half",
            action="store_true",
            help="Use only files whose SHA-256 starts with 0-7, keeping the rest for measurement.",
        )
        build.add_argument(
            "--description", default="", help="Where the originals came from, recorded in the file's header."
        )
        actions.add_parser("show", help=f"Print the profile file in force ({PROFILE_ENV} or the shipped one).")

    def handle(self, *args, action: str, **options) -> None:
        if action == "show":
            profiles = profiles_load()
            self.stdout.write(f"{profiles.source}: {profiles.version}, {len(profiles.makes)} makes")
            return
        missing = [str(folder) for folder in options["folders"] if not folder.is_dir()]
        if missing:
            raise CommandError(f"not a folder: {', '.join(missing)}")
        originals, skipped = originals_read(options["folders"], calibration_half=options["calibration_half"])
        if not originals:
            raise CommandError("no camera originals found (IFD0 Make, a maker note, no editor named)")
        videos, videos_skipped = video_originals_read(options["folders"], calibration_half=options["calibration_half"])
        header = {
            "built_from": {
                "description": options["description"],
                "selection": (
                    "calibration half: SHA-256 first hex digit 0-7"
                    if options["calibration_half"]
                    else "every file in the folders"
                ),
                "criterion": CAMERA_ORIGINAL_CRITERION,
                "camera_originals": len(originals),
                "skipped": skipped,
                "video_criterion": VIDEO_ORIGINAL_CRITERION,
                "camera_videos": len(videos),
                "videos_skipped": videos_skipped,
            }
        }
        data = profiles_build(originals, software_tables_generate(), header, videos)
        profiles_write(data, options["output"])
        models = sum(len(make["models"]) for make in data["makes"].values())
        self.stdout.write(
            f"{options['output']}: {len(originals)} originals, {len(data['makes'])} makes, {models} models, "
            f"{len(videos)} camera videos, digest {data['digest'][:8]}; skipped {skipped}, videos {videos_skipped}"
        )
