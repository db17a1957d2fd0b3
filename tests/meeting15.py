"""Meeting 15 of the Rust ML group (`../shared/reference/meeting-notes-example.md`), typed as chat commands.

`AGENDA` is proposed before the meeting; `MEETING` is the meeting itself, from `meeting start` to
`meeting end`, as (who, message) pairs. Its minutes are the file's, put under the agenda item they
are about; its actions the file's, with owners (the file names none). `EXPECTED` is the notes file
the bot should write for it (`meeting_00015_expected.md` beside this file).
"""

from __future__ import annotations

from pathlib import Path

CHAIR = "chrism"
PEOPLE = ("chrism", "Tiberio", "Ernest", "Lorenz", "Manuel", "diversable (Daniel)")

AGENDA = (
    (CHAIR, "agenda add Discuss recent London meetup and talks"),
    ("Lorenz", "agenda add ndarray has been updated to v0.14"),
    ("Lorenz", "agenda add Release of linfa v0.2"),
    ("Ernest", "agenda add ONNX experiments"),
    ("Tiberio", "agenda add oxidize/enzyme"),
)

MEETING = (
    (CHAIR, "meeting start"),
    ("Tiberio", "here"),
    ("Ernest", "here"),
    ("Lorenz", "here"),
    ("Manuel", "here"),
    ("diversable (Daniel)", "here"),
    # Discuss recent London meetup and talks
    ("Ernest", "note Great attendance at the London Rust community meetup (over 100 people at one point)"),
    (
        "Ernest",
        "note Highlighting corners of the Rust ecosystem that haven't necessarily been at the forefront "
        "(not just web servers)",
    ),
    ("Ernest", "note Other talks have been about topics like GameDev"),
    (
        CHAIR,
        "note Got great feedback about Rust in data science. People didn't really know that this was an area "
        "people were using Rust, and Ernest heard a lot of great feedback and interest in the area",
    ),
    (CHAIR, "note Quality of the hosting service wasn't great, esp. on audio"),
    ("Ernest", "note Rust London group is looking to add more talks later this year"),
    ("Ernest", "note If interested, reach out to Ernest on Zulip"),
    (
        "diversable (Daniel)",
        "note diversable has expressed an interest in being able to interface Rust with Julia code",
    ),
    (
        "diversable (Daniel)",
        "note Julia has a lot of nice things: Mature-ish ML libraries, GPU support, accessible syntax",
    ),
    (
        "diversable (Daniel)",
        "link https://docs.rs/julia/0.2.5/julia/ offers a basic interface between the two",
    ),
    (CHAIR, "note Possibly a new way to access consumers of Rust data science libs vs. producers"),
    (CHAIR, "note Rust-ML now has a twitter: @rust_ml"),
    (CHAIR, "note Good for community outreach"),
    (
        "Ernest",
        "note Ernest has found Rust interest in community groups in Rust Cambridge and Rust Oxford that may "
        "provide an audience that is interested in Rust data science and machine learning",
    ),
    ("Ernest", "note Ernest would be happy to provide introductions"),
    (CHAIR, "agenda next"),
    # ndarray has been updated to v0.14
    (
        "Lorenz",
        "note ndarray has been updated to 0.14, includes some new features and dependency bump, "
        "many more new updates on roadmap for 0.15",
    ),
    (CHAIR, "agenda next"),
    # Release of linfa v0.2
    (
        "Lorenz",
        "note Lorenz spoke with Luca and transferred ownership of linfa on crates.io to the Rust-ML group",
    ),
    ("Lorenz", "agreed version 0.2.1"),
    ("Lorenz", "note Small announcement on Reddit about release on linfa"),
    ("Lorenz", "note Going to speak with Paul re: ElasticNet implementation"),
    ("Lorenz", "note Small issues with the appx_dbscan implementation, so may need to rebase"),
    ("Lorenz", "note Lorenz is working on trees and porting over some tests"),
    ("Lorenz", "action add me Writing Book/examples using linfa 0.2"),
    (
        "Lorenz",
        "action add me Docs improvements: adding a small example in each sub-crate to linfa to show how to "
        "use those algorithms",
    ),
    (CHAIR, "agenda next"),
    # ONNX experiments
    (
        "Ernest",
        "note CPU-only, but used for creating portable computation graphs between neural network libraries",
    ),
    ("Ernest", "note Being portable between different frameworks"),
    ("Ernest", "note Currently for inference, support for training is being worked on"),
    ("Ernest", "note Can be combined with ML-IR"),
    (CHAIR, "agenda next"),
    # oxidize/enzyme
    ("Tiberio", "note Discussion about Enyzme"),
    ("Tiberio", "link https://github.com/tiberiusferreira/oxide-enzyme"),
    ("Tiberio", "link https://github.com/wsmoses/Enzyme"),
    ("Tiberio", "note There is an issue in the C++ REPL that is still working on being upstreamed"),
    ("Tiberio", "note Still a lot of hacky stuff needed to get things running"),
    ("Tiberio", "action add me Continue experimenting with Enzyme for codegen"),
    (CHAIR, "agenda next"),
    # after the agenda
    ("Ernest", "action add me Discuss reaching out to Rust Oxford/Cambridge groups"),
    (
        "Manuel",
        "action add me If anyone has experience with Rust-Python bindgs, please reach out to Manuel, who is "
        "interested in moving forward with writing Python bindings for his Rust-RL project",
    ),
    (
        "Ernest",
        "action add me Ernest may reach out with requests for more talks in the future, so anyone with "
        "interest can reach out him or keep that in the back of their mind",
    ),
    (CHAIR, "meeting end"),
)

EXPECTED = (Path(__file__).parent / "meeting_00015_expected.md").read_text(encoding="utf-8")


def sections(text: str) -> dict[str, str]:
    """A notes file by section: the title line under "", each `## Name` section's text under its name."""
    found: dict[str, list[str]] = {"": []}
    current = ""
    for line in text.strip().splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            found[current] = []
        else:
            found[current].append(line)
    return {name: "\n".join(lines).strip() for name, lines in found.items()}
