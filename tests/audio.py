"""What tests check finished audio with: its samples, loudness and ID3 chapters (the library needs none of it)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import mutagen.id3
import numpy as np
from mutagen import MutagenError

from podcast.assemble import Mix
from podcast.errors import AssemblyError
from podcast.loudness import SAMPLE_RATE
from podcast.media import decode_chunks, ffmpeg_path
from podcast.model import ChapterMark

_id3: Any = mutagen.id3


def decode(path: Path) -> np.ndarray[Any, np.dtype[np.int16]]:
    """An MP3's samples at the episode's rate, all in memory (for checks on short files)."""
    return np.concatenate([np.zeros(0, np.int16), *decode_chunks(path, sample_rate=SAMPLE_RATE)])


def mix_samples(mix: Mix) -> np.ndarray[Any, np.dtype[np.int16]]:
    """The whole laid-out episode in one array (a full copy: for checks on short mixes)."""
    return np.concatenate(list(mix.pieces()))


def measure_file(path: Path) -> dict[str, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of an audio file, measured by ffmpeg's loudnorm."""
    command = [ffmpeg_path(), "-hide_banner", "-nostats", "-i", str(path)]
    command += ["-af", "loudnorm=print_format=json", "-f", "null", "-"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    report = result.stderr[result.stderr.rfind("{") : result.stderr.rfind("}") + 1]
    values = json.loads(report)
    return {"lufs": float(values["input_i"]), "true_peak_db": float(values["input_tp"])}


def read_chapters(path: Path) -> list[ChapterMark]:
    """The ID3 chapters of an MP3, in table-of-contents order (by start time without a CTOC)."""
    try:
        tags = _id3.ID3(path)
    except _id3.ID3NoHeaderError:
        return []
    except (MutagenError, OSError) as exc:
        raise AssemblyError(f"{path}: cannot read ID3 tags ({exc}); check the file is an MP3") from exc
    chaps = {frame.element_id: frame for frame in tags.getall("CHAP")}
    order = sorted(chaps, key=lambda element_id: (chaps[element_id].start_time, element_id))
    for toc in tags.getall("CTOC"):
        if toc.flags & _id3.CTOCFlags.TOP_LEVEL:
            order = [element_id for element_id in toc.child_element_ids if element_id in chaps]
            break
    marks = []
    for element_id in order:
        frame = chaps[element_id]
        titles = frame.sub_frames.getall("TIT2")
        title = str(titles[0].text[0]) if titles and titles[0].text else element_id
        marks.append(ChapterMark(title=title, start_ms=int(frame.start_time), end_ms=int(frame.end_time)))
    return marks
