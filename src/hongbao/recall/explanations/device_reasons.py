# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""Why the device stands in the way, in words: not the sending phone, a phone we cannot tell,
a watch's amount cap, a system that needs a security environment check, a reported condition
(power-saving mode, game acceleration) that stops recalls on this model."""

from __future__ import annotations

from hongbao.recall.explanations.words import PLATFORMS, Texts, yuan
from hongbao.recall.model import RuleOutcome
from hongbao.recall.rule_facts import (
    DeviceConditionFacts,
    SecurityEnvironmentFacts,
    WatchCapFacts,
)


def not_sending_device(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "撤回只能在发出这个红包的那部手机上操作，而且要用同一张手机卡。",
        "A recall must be made on the phone that sent this red packet, with the same SIM card.",
    )


def sending_device_unknown(outcome: RuleOutcome) -> Texts:
    del outcome
    return Texts(
        "我们无法确认这个红包是从哪部手机发出的，所以不能在这里撤回。",
        "We cannot tell which phone sent this red packet, so it cannot be recalled here.",
    )


def watch_cap(outcome: RuleOutcome) -> Texts:
    facts = WatchCapFacts.read(outcome)
    cap, total = yuan(facts.cap_minor), yuan(facts.packet_total_minor)
    if cap is None:
        return Texts(
            "在手表上不能撤回这么大的红包，请在手机上撤回。",
            "This red packet is too large to recall on a smartwatch; please recall it on your "
            "phone.",
        )
    size = (
        Texts(f"，这个红包有 {total} 元", f"; this one is {total} yuan")
        if total is not None
        else Texts("", "")
    )
    return Texts(
        f"在手表上只能撤回不超过 {cap} 元的红包{size.zh}，请在手机上撤回。",
        f"On a smartwatch you can recall only red packets of up to {cap} yuan{size.en}, so "
        "please recall it on your phone.",
    )


def security_environment_required(outcome: RuleOutcome) -> Texts:
    facts = SecurityEnvironmentFacts.read(outcome)
    platform = PLATFORMS.get(facts.platform or "")
    major = facts.os_major
    if platform is None:
        return Texts(
            "您的手机系统需要先完成一次安全环境检测，才能撤回。",
            "Your phone's system needs a security environment check before it can recall.",
        )
    system = platform if major is None else f"{platform} {major}"
    return Texts(
        f"您的手机系统（{system}）需要先完成一次安全环境检测，才能撤回。",
        f"Your phone's system ({system}) needs a security environment check before it can recall.",
    )


def _your_device(outcome: RuleOutcome) -> Texts:
    model = DeviceConditionFacts.read(outcome).model
    return Texts(f"您的{model}", f"Your {model}") if model else Texts("您的手机", "Your phone")


def power_saving_mode(outcome: RuleOutcome) -> Texts:
    device = _your_device(outcome)
    return Texts(
        f"{device.zh}正处于省电模式，这种设备在省电模式下撤回会失败。",
        f"{device.en} is in power-saving mode, where recalls on this device fail.",
    )


def game_acceleration_on(outcome: RuleOutcome) -> Texts:
    device = _your_device(outcome)
    return Texts(
        f"{device.zh}开着游戏加速，这种设备要先关闭游戏加速才能撤回。",
        f"{device.en} has game acceleration on; this device recalls only with it turned off.",
    )
